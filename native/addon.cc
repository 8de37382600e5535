// Module entry: each area registers its exports; per-environment data keeps the addon safe in
// worker threads.
#include <napi.h>

#include <cstdlib>
#include <mutex>
#if defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}
#include <opencv2/core.hpp>

#include "addon_data.h"
#include "js_errors.h"
#include "mat_cache.h"

namespace framesift {
void InitDecoder(Napi::Env env, Napi::Object exports);
void InitMetrics(Napi::Env env, Napi::Object exports);
void InitGeometry(Napi::Env env, Napi::Object exports);
void InitEmbed(Napi::Env env, Napi::Object exports);
void InitCodecs(Napi::Env env, Napi::Object exports);
void InitSpill(Napi::Env env, Napi::Object exports);
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

// glibc gives every thread that allocates under contention its own arena (up to 8 per core) and
// keeps freed memory there. The CLI caps arenas through the environment before the process
// starts (bin/framesift.js: a 60 s 1080p extract peaked at 0.44 GB instead of 1.06 GB); a
// library user's process may not. Then: no new arenas beyond 2 (those made before the addon
// loaded stay), as the CLI has. The mmap threshold stays glibc's own (dynamic): a fixed 1 MB one
// mapped every SIFT pyramid level afresh and paid its page faults on every frame (+40% CPU for
// SIFT at 960 px); the pipeline's trims between stages keep the peak instead. Settings of the
// user's win. Once per process (worker threads load the addon again): std::call_once, not a
// flag that two environments initialising at once could both see unset.
void TuneMalloc() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  });
#endif
}

// Threads are explicit per call: every native job splits its own work over its `threads`
// argument (metrics over frames, features over images, matching over pairs), so OpenCV's own
// pool is fixed to one thread, once, before any job runs. Otherwise its size would depend on
// which job ran first (SIFT alone used every core; after metrics, one), and its threads would
// multiply the jobs' threads. The same for OpenBLAS, when it is the BLAS that OpenCV's gemm
// calls (Debian's alternatives: the exact matcher's products ran 2 BLAS threads inside each of
// the 2 pair threads, whose spinning cost a third of the CPU as system time).
void FixOpenCvThreads() {
  static std::once_flag once;
  std::call_once(once, [] {
    cv::setNumThreads(1);
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
  });
}

Napi::Value OpenCvThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), cv::getNumThreads()); }

// Between stages: the heap memory freed by a stage's native work (SIFT pyramids, decoder
// buffers, all through 2 shared arenas) goes back to the OS instead of staying in the arenas,
// where the next stage's different block sizes may not reuse it. With a byte count: only when
// the arenas hold more than that free (mallinfo2 walks the free lists: microseconds), since a
// trim gives back pages the next call of the same work faults in again (a trim after every
// chunk of 8 SIFT images cost 15% of their CPU). True when memory was released.
// Without a byte count, the large Mat blocks kept for reuse (native/mat_cache.h) go first: the
// next stage asks for other sizes. Within a stage (with a count) they stay: they are what the
// next call of the same work reuses.
Napi::Value TrimNativeMemory(const Napi::CallbackInfo& info) {
  const bool withinStage = info.Length() > 0 && info[0].IsNumber();
  if (!withinStage) framesift::ReleaseMatCache();
#if defined(__GLIBC__)
  if (withinStage) {
    const double minFree = info[0].As<Napi::Number>().DoubleValue();
    if (static_cast<double>(mallinfo2().fordblks) < minFree) return Napi::Boolean::New(info.Env(), false);
  }
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value MatCacheBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(framesift::MatCacheBytes()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  TuneMalloc();
  FixOpenCvThreads();
  framesift::InstallMatCache();
  env.SetInstanceData(new framesift::AddonData());
  framesift::InitErrors(env, exports);
  framesift::InitDecoder(env, exports);
  framesift::InitMetrics(env, exports);
  framesift::InitGeometry(env, exports);
  framesift::InitEmbed(env, exports);
  framesift::InitCodecs(env, exports);
  framesift::InitSpill(env, exports);
  exports.Set("versions", Versions(env));
  exports.Set("openCvThreads", Napi::Function::New(env, OpenCvThreads, "openCvThreads"));
  exports.Set("trimNativeMemory", Napi::Function::New(env, TrimNativeMemory, "trimNativeMemory"));
  exports.Set("matCacheBytes", Napi::Function::New(env, MatCacheBytes, "matCacheBytes"));
  return exports;
}

}  // namespace

NODE_API_MODULE(framesift, Init)
