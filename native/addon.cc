// Module entry: each area registers its exports; per-environment data keeps the addon safe in
// worker threads.
#include <napi.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}
#include <opencv2/core.hpp>

#include "addon_data.h"
#include "js_errors.h"

namespace framesift {
void InitDecoder(Napi::Env env, Napi::Object exports);
void InitMetrics(Napi::Env env, Napi::Object exports);
void InitGeometry(Napi::Env env, Napi::Object exports);
void InitEmbed(Napi::Env env, Napi::Object exports);
}  // namespace framesift

namespace {

std::string VersionString(unsigned v) {
  return std::to_string(AV_VERSION_MAJOR(v)) + "." + std::to_string(AV_VERSION_MINOR(v)) + "." +
         std::to_string(AV_VERSION_MICRO(v));
}

Napi::Object Versions(Napi::Env env) {
  Napi::Object v = Napi::Object::New(env);
  v.Set("ffmpeg", av_version_info());
  v.Set("libavformat", VersionString(avformat_version()));
  v.Set("libavcodec", VersionString(avcodec_version()));
  v.Set("libswscale", VersionString(swscale_version()));
  v.Set("libavutil", VersionString(avutil_version()));
  v.Set("opencv", CV_VERSION);
  v.Set("napi", NAPI_VERSION);
  return v;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new framesift::AddonData());
  framesift::InitErrors(env, exports);
  framesift::InitDecoder(env, exports);
  framesift::InitMetrics(env, exports);
  framesift::InitGeometry(env, exports);
  framesift::InitEmbed(env, exports);
  exports.Set("versions", Versions(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(framesift, Init)
