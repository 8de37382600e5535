// N-API glue for the decoder: the Decoder class (open, read, seek, close, release) over a
// FrameSource and a bounded FramePool. Jobs hold the core by shared_ptr, never the wrapper.
#include <napi.h>

#include <memory>
#include <mutex>
#include <thread>

#include "addon_data.h"
#include "async_job.h"
#include "decoder.h"
#include "frame_pool.h"
#include "image_arg.h"
#include "js_errors.h"

namespace framesift {
namespace {

// Everything a job needs, shared between the wrapper and its running jobs.
struct DecoderCore {
  std::mutex mutex;  // one job at a time touches the source
  DecoderOptions options;
  std::unique_ptr<FrameSource> source;
  std::shared_ptr<FramePool> pool;
  bool closed = false;
};

DecoderOptions ReadOptions(Napi::Object o) {
  DecoderOptions opts;
  opts.input = o.Get("input").As<Napi::String>();
  Napi::Array files = o.Get("files").As<Napi::Array>();
  for (uint32_t i = 0; i < files.Length(); ++i) opts.files.push_back(files.Get(i).As<Napi::String>());
  opts.sequenceFps = o.Get("sequenceFps").As<Napi::Number>().DoubleValue();
  opts.analysisSize = o.Get("analysisSize").As<Napi::Number>().Int32Value();
  opts.gray = o.Get("gray").As<Napi::Boolean>();
  opts.rgb = o.Get("rgb").As<Napi::Boolean>();
  std::string sampling = o.Get("sampling").As<Napi::String>();
  opts.sampling = sampling == "fps"         ? DecoderOptions::Sampling::Fps
                  : sampling == "keyframes" ? DecoderOptions::Sampling::Keyframes
                                            : DecoderOptions::Sampling::All;
  opts.fps = o.Get("fps").As<Napi::Number>().DoubleValue();
  opts.start = o.Get("start").As<Napi::Number>().DoubleValue();
  opts.end = o.Get("end").As<Napi::Number>().DoubleValue();
  opts.threads = o.Get("threads").As<Napi::Number>().Int32Value();
  opts.maxPixels = o.Get("maxPixels").As<Napi::Number>().Int64Value();
  opts.applyRotation = o.Get("applyRotation").As<Napi::Boolean>();
  opts.skipNonReference = o.Get("skipNonReference").IsBoolean() && o.Get("skipNonReference").As<Napi::Boolean>();
  opts.gopHeadSec = o.Get("gopHeadSec").IsNumber() ? o.Get("gopHeadSec").As<Napi::Number>().DoubleValue() : -1;
  opts.gopMaxSkipSec = o.Get("gopMaxSkipSec").IsNumber() ? o.Get("gopMaxSkipSec").As<Napi::Number>().DoubleValue() : -1;
  opts.fastDecode = o.Get("fastDecode").IsBoolean() && o.Get("fastDecode").As<Napi::Boolean>();
  opts.rgbFullResolution = o.Get("rgbFullResolution").IsBoolean() && o.Get("rgbFullResolution").As<Napi::Boolean>();
  opts.rgbDeferred = o.Get("rgbDeferred").IsBoolean() && o.Get("rgbDeferred").As<Napi::Boolean>();
  auto readTimes = [&](const char* key, std::vector<double>& out) {
    Napi::Value value = o.Get(key);
    if (!value.IsArray()) return;
    Napi::Array list = value.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) out.push_back(list.Get(i).As<Napi::Number>().DoubleValue());
  };
  if (o.Get("maxFramesDecoded").IsNumber()) opts.maxFramesDecoded = o.Get("maxFramesDecoded").As<Napi::Number>().Int64Value();
  if (o.Get("readTimeoutSec").IsNumber()) opts.readTimeoutSec = o.Get("readTimeoutSec").As<Napi::Number>().DoubleValue();
  readTimes("wantedPts", opts.wantedPts);
  readTimes("wantedKeyframePts", opts.wantedKeyframePts);
  if (!opts.wantedKeyframePts.empty() && opts.wantedKeyframePts.size() != opts.wantedPts.size())
    Fail(ErrorCode::InvalidArg, "Expected one wantedKeyframePts entry per wantedPts entry");
  // A cheap guard only: TS validated everything (src/decode.ts).
  if (!opts.gray && !opts.rgb) Fail(ErrorCode::InvalidArg, "Expected gray or rgb output");
  if (opts.sampling == DecoderOptions::Sampling::Fps && !(opts.fps > 0)) Fail(ErrorCode::InvalidArg, "Expected fps > 0");
  return opts;
}

Napi::Object ProbeToJs(Napi::Env env, const ProbeInfo& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("input", p.input);
  o.Set("container", p.container);
  o.Set("codec", p.codec);
  o.Set("width", p.width);
  o.Set("height", p.height);
  o.Set("rotation", p.rotation);
  o.Set("displayWidth", p.displayWidth);
  o.Set("displayHeight", p.displayHeight);
  o.Set("pixelFormat", p.pixelFormat);
  o.Set("bitDepth", p.bitDepth);
  o.Set("avgFrameRate", p.avgFrameRate);
  o.Set("realFrameRate", p.realFrameRate);
  o.Set("durationSec", p.durationSec);
  o.Set("startTimeSec", p.startTimeSec);
  o.Set("frameCount", static_cast<double>(p.frameCount));
  o.Set("variableFrameRate", p.variableFrameRate);
  o.Set("isImageSequence", p.isImageSequence);
  o.Set("outputWidth", p.outputWidth);
  o.Set("outputHeight", p.outputHeight);
  o.Set("focalLength35mm", p.focalLength35mm);
  return o;
}

Napi::Object StatsToJs(Napi::Env env, const DecodeStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("packetsRead", static_cast<double>(s.packetsRead));
  o.Set("framesDecoded", static_cast<double>(s.framesDecoded));
  o.Set("framesDelivered", static_cast<double>(s.framesDelivered));
  o.Set("framesLost", static_cast<double>(s.framesLost));
  o.Set("decodeErrors", static_cast<double>(s.decodeErrors));
  o.Set("corruptFrames", static_cast<double>(s.corruptFrames));
  o.Set("truncated", s.truncated);
  o.Set("capped", s.capped);
  o.Set("lastError", s.lastError);
  return o;
}

class OpenJob : public PromiseJob {
 public:
  OpenJob(Napi::Env env, std::shared_ptr<DecoderCore> core, int poolSize)
      : PromiseJob(env, "framesift.open"), core_(std::move(core)), poolSize_(poolSize) {}
  void Run() override {
    std::lock_guard<std::mutex> lock(core_->mutex);
    core_->source = OpenFrameSource(core_->options);
    core_->pool = std::make_shared<FramePool>(poolSize_);
    probe_ = core_->source->Probe();
  }
  Napi::Value Result(Napi::Env env) override { return ProbeToJs(env, probe_); }

 private:
  std::shared_ptr<DecoderCore> core_;
  int poolSize_;
  ProbeInfo probe_;
};

struct DecodedFrame {
  FrameInfo info;
  int slot;
  uint32_t generation;
  std::shared_ptr<PixelBlock> gray, rgb;
  bool rgbDeferred = false;  // rgb holds the decoded planes: not shown to JS as a Buffer
};

class ReadJob : public PromiseJob {
 public:
  ReadJob(Napi::Env env, std::shared_ptr<DecoderCore> core, int maxFrames)
      : PromiseJob(env, "framesift.read"), core_(std::move(core)), maxFrames_(maxFrames) {}

  void Run() override {
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->closed || !core_->source) Fail(ErrorCode::Closed, core_->options.input + ": the decoder is closed");
    FramePool& pool = *core_->pool;
    const bool wantGray = core_->options.gray, wantRgb = core_->options.rgb;
    while (static_cast<int>(frames_.size()) < maxFrames_) {
      if (pool.FreeCount() == 0) {
        starved_ = frames_.empty();
        break;
      }
      int slot = -1;
      TargetProvider target = [&](const OutputSizes& size) {
        size_t pixels = static_cast<size_t>(size.width) * size.height;
        size_t rgbPixels = static_cast<size_t>(size.rgbWidth) * size.rgbHeight;
        // Deferred RGB: the slot holds the decoded planes, from an aligned start.
        const size_t rgbBytes = size.planes.format >= 0 ? size.planes.bytes + PlaneLayout::kAlign : rgbPixels * 3;
        slot = pool.Acquire(wantGray ? pixels : 0, wantRgb ? rgbBytes : 0);
        if (slot < 0) Fail(ErrorCode::Internal, "frame pool exhausted");  // cannot happen: checked above
        return FrameTarget{pool.GrayData(slot), pool.RgbData(slot)};
      };
      FrameInfo info;
      bool got;
      try {
        got = core_->source->Next(target, info);
      } catch (...) {
        if (slot >= 0) pool.Abandon(slot);
        throw;
      }
      if (!got) {
        if (slot >= 0) pool.Abandon(slot);
        done_ = true;
        break;
      }
      const bool deferred = info.size.planes.format >= 0;
      if (deferred) pool.SetPlanes(slot, info.size.planes);
      frames_.push_back(DecodedFrame{info, slot, pool.Generation(slot), pool.GrayBlock(slot), pool.RgbBlock(slot), deferred});
    }
    stats_ = core_->source->Stats();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Napi::Array frames = Napi::Array::New(env, frames_.size());
    std::weak_ptr<FramePool> pool = core_->pool;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const DecodedFrame& d = frames_[i];
      auto ticket = std::make_shared<FrameTicket>(pool, d.slot, d.generation);
      Napi::Object f = Napi::Object::New(env);
      f.Set("index", static_cast<double>(d.info.index));
      f.Set("ptsSec", d.info.ptsSec);
      f.Set("keyframe", d.info.keyframe);
      f.Set("width", d.info.size.width);
      f.Set("height", d.info.size.height);
      if (d.rgb) {
        f.Set("rgbWidth", d.info.size.rgbWidth);
        f.Set("rgbHeight", d.info.size.rgbHeight);
      }
      if (d.gray) f.Set("gray", ExternalBuffer(env, d.gray, ticket));
      if (d.rgb && !d.rgbDeferred) f.Set("rgb", ExternalBuffer(env, d.rgb, ticket));
      if (d.rgbDeferred) f.Set("rgbDeferred", true);
      f.Set("handle", NewFrameHandle(env, ticket));
      frames.Set(i, f);
    }
    result.Set("frames", frames);
    result.Set("done", done_);
    result.Set("starved", starved_);
    result.Set("stats", StatsToJs(env, stats_));
    return result;
  }

 private:
  // A Buffer over the slot's memory, no copy. Its finalizer holds the block (memory stays
  // valid) and the ticket (the slot returns to the pool when every holder is collected).
  struct BufferHold {
    std::shared_ptr<PixelBlock> block;
    std::shared_ptr<FrameTicket> ticket;
  };
  static Napi::Buffer<uint8_t> ExternalBuffer(Napi::Env env, const std::shared_ptr<PixelBlock>& block,
                                              const std::shared_ptr<FrameTicket>& ticket) {
    auto* hold = new BufferHold{block, ticket};
    return Napi::Buffer<uint8_t>::New(env, block->bytes.data(), block->size,
                                      [](Napi::Env, uint8_t*, BufferHold* h) { delete h; }, hold);
  }

  std::shared_ptr<DecoderCore> core_;
  int maxFrames_;
  std::vector<DecodedFrame> frames_;
  DecodeStats stats_;
  bool done_ = false;
  bool starved_ = false;
};

class SeekJob : public PromiseJob {
 public:
  SeekJob(Napi::Env env, std::shared_ptr<DecoderCore> core, double seconds)
      : PromiseJob(env, "framesift.seek"), core_(std::move(core)), seconds_(seconds) {}
  void Run() override {
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->closed || !core_->source) Fail(ErrorCode::Closed, core_->options.input + ": the decoder is closed");
    core_->source->Seek(seconds_);
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::shared_ptr<DecoderCore> core_;
  double seconds_;
};

class CloseJob : public PromiseJob {
 public:
  CloseJob(Napi::Env env, std::shared_ptr<DecoderCore> core) : PromiseJob(env, "framesift.close"), core_(std::move(core)) {}
  void Run() override {
    std::lock_guard<std::mutex> lock(core_->mutex);  // waits for a running read or seek
    core_->closed = true;
    core_->source.reset();
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::shared_ptr<DecoderCore> core_;
};

class Decoder : public Napi::ObjectWrap<Decoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Decoder",
                       {InstanceMethod<&Decoder::Open>("open"), InstanceMethod<&Decoder::Read>("read"),
                        InstanceMethod<&Decoder::Seek>("seek"), InstanceMethod<&Decoder::Close>("close"),
                        InstanceMethod<&Decoder::Release>("release"),
                        InstanceMethod<&Decoder::FreeSlots>("freeSlots"),
                        InstanceMethod<&Decoder::KeyframeTimes>("keyframeTimes"),
                        InstanceMethod<&Decoder::IndexedKeyframeTimes>("indexedKeyframeTimes")});
  }

  explicit Decoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Decoder>(info), core_(std::make_shared<DecoderCore>()) {}

 private:
  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (opened_) ThrowJs(env, ErrorCode::InvalidArg, "the decoder is already open");
    if (!info[0].IsObject()) ThrowJs(env, ErrorCode::InvalidArg, "Expected an options object for open");
    Napi::Object o = info[0].As<Napi::Object>();
    int poolSize = o.Get("poolSize").As<Napi::Number>().Int32Value();
    if (poolSize < 1) ThrowJs(env, ErrorCode::InvalidArg, "Expected poolSize >= 1");
    GuardJs(env, [&] { core_->options = ReadOptions(o); });
    opened_ = true;
    return Track(env, new OpenJob(env, core_, poolSize));
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int maxFrames = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 16;
    if (maxFrames < 1) ThrowJs(env, ErrorCode::InvalidArg, "Expected maxFrames >= 1");
    return Track(env, new ReadJob(env, core_, maxFrames));
  }

  Napi::Value Seek(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) ThrowJs(env, ErrorCode::InvalidArg, "Expected a number of seconds for seek");
    return Track(env, new SeekJob(env, core_, info[0].As<Napi::Number>().DoubleValue()));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    closing_ = true;
    auto* job = new CloseJob(env, core_);
    return job->Start();
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    std::shared_ptr<FrameTicket> ticket = FrameHandleTicket(info[0]);
    if (!ticket) ThrowJs(info.Env(), ErrorCode::InvalidArg, "Expected a decoded frame's handle for release");
    return Napi::Boolean::New(info.Env(), ticket->Release());
  }

  // Keyframe times demuxed so far. Only between jobs: the source is not shared with a worker.
  Napi::Value KeyframeTimes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::unique_lock<std::mutex> lock(core_->mutex, std::try_to_lock);
    if (!lock.owns_lock() || busy_) ThrowJs(env, ErrorCode::Busy, core_->options.input + ": keyframeTimes() while a read is running");
    if (!core_->source) return Napi::Float64Array::New(env, 0);
    return TimesArray(env, core_->source->KeyframeTimes());
  }

  // The first `max` keyframe times from the container's full index (empty without one). Only
  // between jobs, as keyframeTimes().
  Napi::Value IndexedKeyframeTimes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber() || !(info[0].As<Napi::Number>().DoubleValue() >= 1))
      ThrowJs(env, ErrorCode::InvalidArg, "Expected a count >= 1 for indexedKeyframeTimes");
    const auto max = static_cast<size_t>(std::min(1e9, info[0].As<Napi::Number>().DoubleValue()));
    std::unique_lock<std::mutex> lock(core_->mutex, std::try_to_lock);
    if (!lock.owns_lock() || busy_) ThrowJs(env, ErrorCode::Busy, core_->options.input + ": indexedKeyframeTimes() while a read is running");
    if (!core_->source) return Napi::Float64Array::New(env, 0);
    return TimesArray(env, core_->source->IndexedKeyframeTimes(max));
  }

  static Napi::Float64Array TimesArray(Napi::Env env, const std::vector<double>& times) {
    Napi::Float64Array out = Napi::Float64Array::New(env, times.size());
    std::copy(times.begin(), times.end(), out.Data());
    return out;
  }

  Napi::Value FreeSlots(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core_->pool ? core_->pool->FreeCount() : 0);
  }

  // One open/read/seek at a time per decoder: a second one is a caller bug, not a queue.
  Napi::Value Track(Napi::Env env, PromiseJob* job) {
    if (closing_) {
      job->Discard();
      ThrowJs(env, ErrorCode::Closed, core_->options.input + ": the decoder is closed");
    }
    if (busy_) {
      job->Discard();
      ThrowJs(env, ErrorCode::Busy, core_->options.input + ": a read, seek or open is already running");
    }
    busy_ = true;
    job->KeepAlive(Value());  // the wrapper outlives the job, so the callback may use `this`
    job->OnSettled([this]() { busy_ = false; });
    return job->Start();
  }

  std::shared_ptr<DecoderCore> core_;
  bool opened_ = false;
  bool busy_ = false;
  bool closing_ = false;
};

}  // namespace

void InitDecoder(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = Decoder::Define(env);
  env.GetInstanceData<AddonData>()->decoderClass = Napi::Persistent(cls);
  exports.Set("Decoder", cls);
}

}  // namespace framesift
