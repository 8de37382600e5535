// N-API glue for embedding preprocessing: preprocessFrames(frames, target, out, offset)
// resizes and normalises a batch of frames into a Float32Array/Uint16Array tensor buffer on
// the threadpool. Frames are read without copying (decoded frames are pinned for the job).
#include <napi.h>

#include <string>
#include <vector>

#include "async_job.h"
#include "image_arg.h"
#include "preprocess.h"

namespace framesift {
namespace {

class PreprocessJob : public PromiseJob {
 public:
  explicit PreprocessJob(Napi::Env env) : PromiseJob(env, "framesift:preprocess") {}

  std::vector<ImageView> frames;
  PreprocessTarget target;
  uint8_t* out = nullptr;  // first element of the first frame's slot
  size_t elementSize = 4;

 protected:
  void Run() override {
    const size_t perFrame = 3 * static_cast<size_t>(target.width) * target.height * elementSize;
    for (size_t i = 0; i < frames.size(); i++) {
      const ImageView& f = frames[i];
      PreprocessToNchw(f.data, f.width, f.height, f.stride, f.channels, target, out + i * perFrame);
    }
  }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

Plane PlaneOf(Napi::Value frame) {
  if (!frame.IsObject()) return Plane::Rgb;
  Napi::Object obj = frame.As<Napi::Object>();
  if (!obj.Get("rgb").IsUndefined()) return Plane::Rgb;
  if (!obj.Get("gray").IsUndefined()) return Plane::Gray;
  Napi::Value ch = obj.Get("channels");
  return ch.IsNumber() && ch.As<Napi::Number>().Int32Value() == 1 ? Plane::Gray : Plane::Rgb;
}

int ReadInt(Napi::Object obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (!v.IsNumber()) Fail(ErrorCode::InvalidArg, std::string("Expected a number for target.") + key);
  return v.As<Napi::Number>().Int32Value();
}

Napi::Value PreprocessFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return StartJob(env, new PreprocessJob(env), [&](PreprocessJob& job) {
    if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsObject() || !info[2].IsTypedArray() || !info[3].IsNumber())
      Fail(ErrorCode::InvalidArg, "Expected (frames[], {width, height, aspect, half}, Float32Array|Uint16Array, offset)");
    Napi::Object t = info[1].As<Napi::Object>();
    job.target.width = ReadInt(t, "width");
    job.target.height = ReadInt(t, "height");
    job.target.aspect = ReadInt(t, "aspect") == 1 ? PreprocessAspect::Crop : PreprocessAspect::Stretch;
    job.target.half = t.Get("half").ToBoolean().Value();
    if (job.target.width < 1 || job.target.height < 1 || job.target.width > 8192 || job.target.height > 8192)
      Fail(ErrorCode::InvalidArg, "Expected a target size from 1 to 8192");
    Napi::TypedArray out = info[2].As<Napi::TypedArray>();
    const napi_typedarray_type want = job.target.half ? napi_uint16_array : napi_float32_array;
    if (out.TypedArrayType() != want)
      Fail(ErrorCode::InvalidArg, job.target.half ? "Expected a Uint16Array for float16 output" : "Expected a Float32Array for float32 output");
    job.elementSize = job.target.half ? 2 : 4;
    Napi::Array frames = info[0].As<Napi::Array>();
    const double offset = info[3].As<Napi::Number>().DoubleValue();
    const size_t perFrame = 3 * static_cast<size_t>(job.target.width) * job.target.height;
    if (offset < 0 || offset != static_cast<double>(static_cast<size_t>(offset)) ||
        static_cast<size_t>(offset) + perFrame * frames.Length() > out.ElementLength())
      Fail(ErrorCode::InvalidArg, "Expected the output buffer to hold offset + frames * 3 * width * height elements");
    for (uint32_t i = 0; i < frames.Length(); i++) {
      Napi::Value f = frames[i];
      job.frames.push_back(ReadImageArg(f, PlaneOf(f), job, "frames[" + std::to_string(i) + "]"));
    }
    job.KeepAlive(out);
    job.out = static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset() + static_cast<size_t>(offset) * job.elementSize;
  });
}

}  // namespace

void InitEmbed(Napi::Env env, Napi::Object exports) {
  exports.Set("preprocessFrames", Napi::Function::New(env, PreprocessFrames, "preprocessFrames"));
}

}  // namespace framesift
