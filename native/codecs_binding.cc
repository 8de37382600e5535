// What this libavcodec can decode, for `framesift doctor`: the decoders present for each codec
// framesift users meet, and the pixel formats a decoder declares (a table walk: microseconds,
// so a plain synchronous call).
#include <napi.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/pixdesc.h>
}

namespace framesift {

namespace {

struct NamedCodec {
  const char* key;
  AVCodecID id;
};

// The keys are the ones doctor prints; the order is the report's.
constexpr NamedCodec kCodecs[] = {
    {"h264", AV_CODEC_ID_H264},   {"hevc", AV_CODEC_ID_HEVC},     {"vp9", AV_CODEC_ID_VP9},
    {"av1", AV_CODEC_ID_AV1},     {"prores", AV_CODEC_ID_PRORES}, {"mjpeg", AV_CODEC_ID_MJPEG},
};

// { h264: [{ name, hardware, pixelFormats }], ... }: every decoder libavcodec registers for the
// codec (software first as libavcodec lists them); pixelFormats is empty when the decoder
// decides at run time (most software decoders).
Napi::Value Decoders(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  for (const NamedCodec& named : kCodecs) {
    Napi::Array list = Napi::Array::New(env);
    void* it = nullptr;
    uint32_t n = 0;
    while (const AVCodec* codec = av_codec_iterate(&it)) {
      if (codec->id != named.id || !av_codec_is_decoder(codec)) continue;
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", codec->name);
      entry.Set("hardware", (codec->capabilities & AV_CODEC_CAP_HARDWARE) != 0);
      Napi::Array formats = Napi::Array::New(env);
      uint32_t f = 0;
      for (const AVPixelFormat* p = codec->pix_fmts; p != nullptr && *p != AV_PIX_FMT_NONE; ++p) {
        const char* name = av_get_pix_fmt_name(*p);
        if (name != nullptr) formats.Set(f++, name);
      }
      entry.Set("pixelFormats", formats);
      list.Set(n++, entry);
    }
    out.Set(named.key, list);
  }
  return out;
}

}  // namespace

void InitCodecs(Napi::Env env, Napi::Object exports) {
  exports.Set("decoders", Napi::Function::New(env, Decoders, "decoders"));
}

}  // namespace framesift
