// N-API glue for FrameSpill: `new FrameSpill(path, direct = true)`, write(frame), readRgb(id, buffer) and
// readGray(id, width, height, buffer) as jobs on the threadpool (pwrite / pread + the
// conversion), close(). Jobs hold the spill
// by shared_ptr, so close() while one runs frees it after that job.
#include <napi.h>

#include <algorithm>
#include <memory>

#include "async_job.h"
#include "frame_pool.h"
#include "frame_spill.h"
#include "image_arg.h"
#include "js_errors.h"

namespace framesift {
namespace {

class WriteJob : public PromiseJob {
 public:
  explicit WriteJob(Napi::Env env, std::shared_ptr<FrameSpill> spill) : PromiseJob(env, "framesift.spill.write"), spill_(std::move(spill)) {}
  // JS thread: pins the frame until the job settles; its slot's planes and layout stay put.
  void Take(Napi::Value frame) {
    if (!frame.IsObject()) Fail(ErrorCode::InvalidArg, "Expected a decoded frame for write");
    std::shared_ptr<FrameTicket> ticket = FrameHandleTicket(frame.As<Napi::Object>().Get("handle"));
    if (!ticket) Fail(ErrorCode::InvalidArg, "Expected a decoded frame's handle for frame.handle");
    std::shared_ptr<FramePool> pool = ticket->pool.lock();
    if (!pool || !ticket->Pin()) Fail(ErrorCode::InvalidArg, "frame was released: its pixels are no longer valid");
    OnSettled([ticket]() { ticket->Unpin(); });
    layout_ = pool->Planes(ticket->slot);
    block_ = pool->RgbBlock(ticket->slot);
    if (layout_.format < 0 || !block_) Fail(ErrorCode::InvalidArg, "Expected a frame decoded with rgbDeferred for write");
  }
  void Run() override {
    uint8_t* planes = AlignedStart(block_->bytes.data());
    id_ = spill_->Append(layout_, planes, block_->bytes.capacity() - static_cast<size_t>(planes - block_->bytes.data()));
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, id_); }

 private:
  std::shared_ptr<FrameSpill> spill_;
  PlaneLayout layout_;
  std::shared_ptr<PixelBlock> block_;
  int id_ = -1;
};

class ReadRgbJob : public PromiseJob {
 public:
  ReadRgbJob(Napi::Env env, std::shared_ptr<FrameSpill> spill) : PromiseJob(env, "framesift.spill.readRgb"), spill_(std::move(spill)) {}
  void Take(Napi::Value id, Napi::Value buffer) {
    if (!id.IsNumber()) Fail(ErrorCode::InvalidArg, "Expected a record id for readRgb");
    id_ = id.As<Napi::Number>().Int32Value();
    const size_t bytes = spill_->RgbBytes(id_, &width_, &height_);
    if (!buffer.IsTypedArray() || buffer.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      Fail(ErrorCode::InvalidArg, "Expected a Uint8Array for readRgb's buffer");
    Napi::Uint8Array out = buffer.As<Napi::Uint8Array>();
    // The converter's SIMD rows may store a few bytes past the last pixel.
    if (out.ByteLength() < bytes + PixelBlock::kTail)
      Fail(ErrorCode::InvalidArg, "Expected at least " + std::to_string(bytes + PixelBlock::kTail) + " bytes for readRgb's buffer but received " + std::to_string(out.ByteLength()));
    dst_ = out.Data();
    KeepAlive(buffer);
  }
  void Run() override { spill_->ReadRgb(id_, dst_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", width_);
    o.Set("height", height_);
    return o;
  }

 private:
  std::shared_ptr<FrameSpill> spill_;
  int id_ = -1;
  int width_ = 0, height_ = 0;
  uint8_t* dst_ = nullptr;
};

class ReadGrayJob : public PromiseJob {
 public:
  ReadGrayJob(Napi::Env env, std::shared_ptr<FrameSpill> spill) : PromiseJob(env, "framesift.spill.readGray"), spill_(std::move(spill)) {}
  void Take(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) Fail(ErrorCode::InvalidArg, "Expected a record id for readGray");
    if (!info[1].IsNumber() || !info[2].IsNumber()) Fail(ErrorCode::InvalidArg, "Expected a width and height for readGray");
    id_ = info[0].As<Napi::Number>().Int32Value();
    width_ = info[1].As<Napi::Number>().Int32Value();
    height_ = info[2].As<Napi::Number>().Int32Value();
    spill_->RgbBytes(id_);  // an unknown id fails here, on the JS thread
    if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      Fail(ErrorCode::InvalidArg, "Expected a Uint8Array for readGray's buffer");
    Napi::Uint8Array out = info[3].As<Napi::Uint8Array>();
    const size_t bytes = static_cast<size_t>(std::max(0, width_)) * static_cast<size_t>(std::max(0, height_));
    if (out.ByteLength() < bytes + PixelBlock::kTail)
      Fail(ErrorCode::InvalidArg, "Expected at least " + std::to_string(bytes + PixelBlock::kTail) + " bytes for readGray's buffer but received " + std::to_string(out.ByteLength()));
    dst_ = out.Data();
    KeepAlive(info[3]);
  }
  void Run() override { spill_->ReadGray(id_, width_, height_, dst_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::shared_ptr<FrameSpill> spill_;
  int id_ = -1;
  int width_ = 0, height_ = 0;
  uint8_t* dst_ = nullptr;
};

class Spill : public Napi::ObjectWrap<Spill> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FrameSpill",
                       {InstanceMethod<&Spill::Write>("write"), InstanceMethod<&Spill::ReadRgb>("readRgb"),
                        InstanceMethod<&Spill::ReadGray>("readGray"),
                        InstanceMethod<&Spill::RgbBytes>("rgbBytes"), InstanceMethod<&Spill::FileBytes>("fileBytes"),
                        InstanceMethod<&Spill::Direct>("direct"),
                        InstanceMethod<&Spill::Close>("close")});
  }

  explicit Spill(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Spill>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) ThrowJs(env, ErrorCode::InvalidArg, "Expected a file path for FrameSpill");
    std::string path = info[0].As<Napi::String>();
    const bool direct = !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    GuardJs(env, [&] { spill_ = std::make_shared<FrameSpill>(path, direct); });
  }

 private:
  std::shared_ptr<FrameSpill> Open(Napi::Env env) {
    if (!spill_) ThrowJs(env, ErrorCode::Closed, "the frame spill is closed");
    return spill_;
  }
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto* job = new WriteJob(env, Open(env));
    return StartJob(env, job, [&](WriteJob& j) { j.Take(info[0]); });
  }
  Napi::Value ReadRgb(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto* job = new ReadRgbJob(env, Open(env));
    return StartJob(env, job, [&](ReadRgbJob& j) { j.Take(info[0], info[1]); });
  }
  Napi::Value ReadGray(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto* job = new ReadGrayJob(env, Open(env));
    return StartJob(env, job, [&](ReadGrayJob& j) { j.Take(info); });
  }
  // { bytes, width, height } of a record's RGB24 (synchronous: a table look-up).
  Napi::Value RgbBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) ThrowJs(env, ErrorCode::InvalidArg, "Expected a record id for rgbBytes");
    int width = 0, height = 0;
    size_t bytes = GuardJs(env, [&] { return Open(env)->RgbBytes(info[0].As<Napi::Number>().Int32Value(), &width, &height); });
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytes", static_cast<double>(bytes));
    o.Set("width", width);
    o.Set("height", height);
    return o;
  }
  Napi::Value FileBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), spill_ ? static_cast<double>(spill_->FileBytes()) : 0);
  }
  Napi::Value Direct(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), spill_ && spill_->Direct()); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    spill_.reset();  // a running job keeps its own reference; the file goes with the last one
    return info.Env().Undefined();
  }

  std::shared_ptr<FrameSpill> spill_;
};

}  // namespace

void InitSpill(Napi::Env env, Napi::Object exports) { exports.Set("FrameSpill", Spill::Define(env)); }

}  // namespace framesift
