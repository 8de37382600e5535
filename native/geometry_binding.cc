// N-API glue for the geometry module (features, matching + verification, tracks): unpacks
// arguments, runs jobs off the JS thread and packs results. The operations themselves live in
// local_features.cc, matching.cc and tracks.cc.
//
// Lifetime: a FeatureSet / MatchGraph object holds a shared_ptr to immutable native data.
// dispose() drops that reference at once (and the GC finalizer does, as a safety net); a job
// copies the shared_ptr when it starts, so data in use by a running job stays valid until the
// job ends, and is freed then. Workers never touch the JS wrappers.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "async_job.h"
#include "colmap_export.h"
#include "local_features.h"
#include "image_arg.h"
#include "js_errors.h"
#include "matching.h"
#include "parallel_for.h"
#include "serial_executor.h"
#include "tracks.h"

namespace framesift {
namespace {

// The verified matches of a matchPairs() run, with what tracks need of each frame.
struct MatchGraphData {
  std::vector<TrackFrameInput> frames;     // xy points into `keypoints`
  std::vector<std::vector<float>> keypoints;
  std::vector<TrackPairInput> pairs;       // matches point into `inliers`
  std::vector<std::vector<uint32_t>> inliers;
  size_t ByteLength() const {
    size_t bytes = 0;
    for (const auto& k : keypoints) bytes += k.size() * sizeof(float);
    for (const auto& m : inliers) bytes += m.size() * sizeof(uint32_t);
    return bytes;
  }
};

// Per-environment state (no statics: worker_threads each get their own), passed to every
// function as its data and freed by an environment cleanup hook.
struct GeometryEnv : std::enable_shared_from_this<GeometryEnv> {
  bool alive = true;  // false once the environment's cleanup hook has run
  Napi::FunctionReference featureSetClass;
  Napi::FunctionReference matchGraphClass;
  // Hand-over slots for creating wrappers from C++: JS cannot construct them directly.
  std::shared_ptr<const FeatureData> pendingFeatures;
  std::shared_ptr<const MatchGraphData> pendingGraph;
  // Where single-threaded extraction runs (see serial_executor.h); jobs hold a reference so
  // it outlives any job still running at environment teardown.
  std::shared_ptr<SerialExecutor> extractor = std::make_shared<SerialExecutor>();
  // FLANN indexes of the sets matched last (~3 MB each at 4,000 SIFT features): the selection's
  // pair checks and the tracks stage after it reuse them; releaseMatchIndexes() empties it.
  std::shared_ptr<IndexCache> indexes = std::make_shared<IndexCache>(kCachedIndexes);
  static constexpr size_t kCachedIndexes = 48;
  // Results of the pairs matched last (the selection's checks, matched again by the tracks
  // stage); emptied with the indexes.
  std::shared_ptr<PairCache> pairs = std::make_shared<PairCache>(kCachedPairs);
  static constexpr size_t kCachedPairs = 128;
};

GeometryEnv* GeoOf(const Napi::CallbackInfo& info) { return static_cast<GeometryEnv*>(info.Data()); }

// Tells V8 how much native memory a small wrapper holds, so GC runs when it matters. The C
// call, not Napi::MemoryManagement: that one throws when the environment is shutting down
// (a terminated Worker), and this runs in destructors.
void AdjustExternalMemory(napi_env env, int64_t change) {
  int64_t total = 0;
  napi_adjust_external_memory(env, change, &total);
}

// Native data owned by a JS wrapper (FeatureSet, MatchGraph): taken over from the
// environment's pending slot at construction (JS cannot construct one itself), reported to V8
// as external memory, and freed deterministically by dispose() or by the finalizer.
template <typename T>
class WrappedData {
 public:
  void Adopt(const Napi::CallbackInfo& info, std::shared_ptr<const T>& pending, const char* cls, const char* factory) {
    GeometryEnv* geo = GeoOf(info);
    if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<GeometryEnv>>().Data() != geo ||
        !pending)
      ThrowJs(info.Env(), ErrorCode::InvalidArg, std::string(cls) + " objects are created by " + factory);
    data_ = std::move(pending);
    bytes_ = static_cast<int64_t>(data_->ByteLength());
    AdjustExternalMemory(info.Env(), bytes_);
  }
  // Frees the data; true when it was still live.
  bool Release(napi_env env) {
    const bool wasLive = static_cast<bool>(data_);
    if (bytes_ != 0) AdjustExternalMemory(env, -bytes_);
    bytes_ = 0;
    data_.reset();
    return wasLive;
  }
  // The data, or ERR_FRAMESIFT_CLOSED naming `what` once disposed.
  std::shared_ptr<const T> Require(const std::string& what, const char* contents) const {
    if (!data_) Fail(ErrorCode::Closed, what + " was disposed: its " + contents + " are no longer available");
    return data_;
  }
  const T* Get() const { return data_.get(); }

 private:
  std::shared_ptr<const T> data_;
  int64_t bytes_ = 0;
};

// A job that finishes while its environment is being torn down (a terminated Worker) has
// no one to hand results to.
void CheckAlive(const GeometryEnv& geo) {
  if (!geo.alive) Fail(ErrorCode::Closed, "the JS environment is shutting down");
}

// ---- option readers (TS has validated; these are cheap guards) ----

double NumberOr(Napi::Object obj, const char* key, double fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) Fail(ErrorCode::InvalidArg, std::string("Expected a number for ") + key);
  return v.As<Napi::Number>().DoubleValue();
}

bool BoolOr(Napi::Object obj, const char* key, bool fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) Fail(ErrorCode::InvalidArg, std::string("Expected a boolean for ") + key);
  return v.As<Napi::Boolean>().Value();
}

Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[index].IsObject()) Fail(ErrorCode::InvalidArg, "Expected an options object");
  return info[index].As<Napi::Object>();
}

int ThreadsOr(Napi::Object obj, int fallback) {
  double t = NumberOr(obj, "threads", fallback);
  if (!(t >= 1 && t <= 64)) Fail(ErrorCode::InvalidArg, "Expected threads from 1 to 64");
  return static_cast<int>(t);
}

FeatureOptions ReadFeatureOptions(Napi::Object o) {
  FeatureOptions f;
  f.kind = NumberOr(o, "kind", 0) == 1 ? FeatureKind::Orb : FeatureKind::Sift;
  f.maxFeatures = static_cast<int>(NumberOr(o, "maxFeatures", f.maxFeatures));
  f.rootSift = BoolOr(o, "rootSift", f.rootSift);
  f.downscale = NumberOr(o, "downscale", f.downscale);
  f.contrastThreshold = NumberOr(o, "contrastThreshold", f.contrastThreshold);
  f.unshift = BoolOr(o, "unshift", f.unshift);
  if (f.maxFeatures < 0) Fail(ErrorCode::InvalidArg, "Expected maxFeatures >= 0");
  if (!(f.downscale > 0 && f.downscale <= 1)) Fail(ErrorCode::InvalidArg, "Expected downscale in (0, 1]");
  return f;
}

MatchOptions ReadMatchOptions(Napi::Object o) {
  MatchOptions m;
  m.ratio = NumberOr(o, "ratio", m.ratio);
  m.mutual = BoolOr(o, "mutual", m.mutual);
  m.fThresholdPx = NumberOr(o, "fThresholdPx", m.fThresholdPx);
  m.hThresholdPx = NumberOr(o, "hThresholdPx", m.hThresholdPx);
  m.confidence = NumberOr(o, "confidence", m.confidence);
  m.maxIterations = static_cast<int>(NumberOr(o, "maxIterations", m.maxIterations));
  m.minInliers = static_cast<int>(NumberOr(o, "minInliers", m.minInliers));
  m.focalPx = NumberOr(o, "focalPx", m.focalPx);
  m.flannChecks = static_cast<int>(NumberOr(o, "flannChecks", m.flannChecks));
  m.minMatches = static_cast<int>(NumberOr(o, "minMatches", m.minMatches));
  m.exact = BoolOr(o, "exact", m.exact);
  m.maxAngleRad = NumberOr(o, "maxAngleRad", m.maxAngleRad);
  if (!(m.ratio > 0 && m.ratio <= 1)) Fail(ErrorCode::InvalidArg, "Expected ratio in (0, 1]");
  if (!(m.fThresholdPx > 0 && m.hThresholdPx > 0)) Fail(ErrorCode::InvalidArg, "Expected positive thresholds");
  if (!(m.confidence > 0 && m.confidence < 1)) Fail(ErrorCode::InvalidArg, "Expected confidence in (0, 1)");
  if (m.maxIterations < 1 || m.flannChecks < 1) Fail(ErrorCode::InvalidArg, "Expected maxIterations, flannChecks >= 1");
  if (!(m.maxAngleRad > 0 && m.maxAngleRad <= M_PI)) Fail(ErrorCode::InvalidArg, "Expected maxAngleRad in (0, pi]");
  return m;
}

// ---- FeatureSet ----

class FeatureSetWrap : public Napi::ObjectWrap<FeatureSetWrap> {
 public:
  static Napi::Function Define(Napi::Env env, GeometryEnv* geo) {
    return DefineClass(env, "FeatureSet",
                       {InstanceAccessor("count", &FeatureSetWrap::Count, nullptr),
                        InstanceAccessor("width", &FeatureSetWrap::Width, nullptr),
                        InstanceAccessor("height", &FeatureSetWrap::Height, nullptr),
                        InstanceAccessor("kind", &FeatureSetWrap::Kind, nullptr),
                        InstanceAccessor("rootSift", &FeatureSetWrap::RootSift, nullptr),
                        InstanceAccessor("byteLength", &FeatureSetWrap::ByteLength, nullptr),
                        InstanceAccessor("disposed", &FeatureSetWrap::Disposed, nullptr),
                        InstanceMethod("keypoints", &FeatureSetWrap::Keypoints),
                        InstanceMethod("toBuffer", &FeatureSetWrap::ToBuffer),
                        InstanceMethod("dispose", &FeatureSetWrap::Dispose)},
                       geo);
  }

  explicit FeatureSetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FeatureSetWrap>(info) {
    held_.Adopt(info, GeoOf(info)->pendingFeatures, "FeatureSet", "extractFeatures()");
  }

  ~FeatureSetWrap() override { held_.Release(Env()); }

  std::shared_ptr<const FeatureData> Data(const std::string& what) const { return held_.Require(what, "features"); }

 private:
  Napi::Value Count(const Napi::CallbackInfo& info) {
    const FeatureData* d = held_.Get();
    return Napi::Number::New(info.Env(), d ? d->Count() : 0);
  }
  Napi::Value Width(const Napi::CallbackInfo& info) {
    const FeatureData* d = held_.Get();
    return Napi::Number::New(info.Env(), d ? d->width : 0);
  }
  Napi::Value Height(const Napi::CallbackInfo& info) {
    const FeatureData* d = held_.Get();
    return Napi::Number::New(info.Env(), d ? d->height : 0);
  }
  Napi::Value Kind(const Napi::CallbackInfo& info) {
    const FeatureData* d = held_.Get();
    return Napi::String::New(info.Env(), d && d->kind == FeatureKind::Orb ? "orb" : "sift");
  }
  Napi::Value RootSift(const Napi::CallbackInfo& info) {
    const FeatureData* d = held_.Get();
    return Napi::Boolean::New(info.Env(), d && d->rootSift);
  }
  Napi::Value ByteLength(const Napi::CallbackInfo& info) {
    const FeatureData* d = held_.Get();
    return Napi::Number::New(info.Env(), static_cast<double>(d ? d->ByteLength() : 0));
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), held_.Get() == nullptr); }
  Napi::Value Keypoints(const Napi::CallbackInfo& info) {
    return GuardJs(info.Env(), [&]() -> Napi::Value {
      auto data = Data("featureSet");
      Napi::Float32Array out = Napi::Float32Array::New(info.Env(), data->xy.size());
      if (!data->xy.empty()) std::memcpy(out.Data(), data->xy.data(), data->xy.size() * sizeof(float));
      return out;
    });
  }
  // A copy of the set as bytes (SerializeFeatures): ~0.3 MB for 2,000 SIFT features, a memcpy.
  Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
    return GuardJs(info.Env(), [&]() -> Napi::Value {
      std::vector<uint8_t> bytes = SerializeFeatures(*Data("featureSet"));
      return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
    });
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), held_.Release(info.Env())); }

  WrappedData<FeatureData> held_;
};

Napi::Object NewFeatureSet(Napi::Env env, GeometryEnv* geo, FeatureData&& data) {
  geo->pendingFeatures = std::make_shared<const FeatureData>(std::move(data));
  Napi::Object obj = geo->featureSetClass.New({Napi::External<GeometryEnv>::New(env, geo)});
  geo->pendingFeatures.reset();
  return obj;
}

std::shared_ptr<const FeatureData> FeatureSetArg(GeometryEnv* geo, Napi::Value value, const std::string& what) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(geo->featureSetClass.Value()))
    Fail(ErrorCode::InvalidArg, "Expected a FeatureSet for " + what);
  return FeatureSetWrap::Unwrap(value.As<Napi::Object>())->Data(what);
}

// featureSetFromBuffer(bytes): a FeatureSet again from FeatureSet.toBuffer() bytes (copied).
Napi::Value FeatureSetFromBufferJs(const Napi::CallbackInfo& info) {
  return GuardJs(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      Fail(ErrorCode::InvalidArg, "Expected a Uint8Array of saved features for bytes");
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    return NewFeatureSet(info.Env(), GeoOf(info), DeserializeFeatures(bytes.Data(), bytes.ByteLength()));
  });
}

// ---- MatchGraph ----

class MatchGraphWrap : public Napi::ObjectWrap<MatchGraphWrap> {
 public:
  static Napi::Function Define(Napi::Env env, GeometryEnv* geo) {
    return DefineClass(env, "MatchGraph",
                       {InstanceAccessor("frameCount", &MatchGraphWrap::FrameCount, nullptr),
                        InstanceAccessor("pairCount", &MatchGraphWrap::PairCount, nullptr),
                        InstanceAccessor("byteLength", &MatchGraphWrap::ByteLength, nullptr),
                        InstanceAccessor("disposed", &MatchGraphWrap::Disposed, nullptr),
                        InstanceMethod("dispose", &MatchGraphWrap::Dispose)},
                       geo);
  }

  explicit MatchGraphWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MatchGraphWrap>(info) {
    held_.Adopt(info, GeoOf(info)->pendingGraph, "MatchGraph", "matchPairs()");
  }

  ~MatchGraphWrap() override { held_.Release(Env()); }

  std::shared_ptr<const MatchGraphData> Data(const std::string& what) const { return held_.Require(what, "matches"); }

 private:
  Napi::Value FrameCount(const Napi::CallbackInfo& info) {
    const MatchGraphData* d = held_.Get();
    return Napi::Number::New(info.Env(), d ? static_cast<double>(d->frames.size()) : 0);
  }
  Napi::Value PairCount(const Napi::CallbackInfo& info) {
    const MatchGraphData* d = held_.Get();
    return Napi::Number::New(info.Env(), d ? static_cast<double>(d->pairs.size()) : 0);
  }
  Napi::Value ByteLength(const Napi::CallbackInfo& info) {
    const MatchGraphData* d = held_.Get();
    return Napi::Number::New(info.Env(), d ? static_cast<double>(d->ByteLength()) : 0);
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), held_.Get() == nullptr); }
  Napi::Value Dispose(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), held_.Release(info.Env())); }

  WrappedData<MatchGraphData> held_;
};

// ---- extractFeatures(image, opts) / extractFeaturesBatch(images, opts) ----

class ExtractJob : public PromiseJob {
 public:
  ExtractJob(Napi::Env env, GeometryEnv* geo, bool batch)
      : PromiseJob(env, "framesift:extractFeatures"), geo_(geo->shared_from_this()), extractor_(geo->extractor), batch_(batch) {}
  std::vector<ImageView> images;
  FeatureOptions options;
  int threads = 1;

 protected:
  void Run() override {
    results_.resize(images.size());
    auto extract = [&](size_t k) {
      const ImageView& v = images[k];
      results_[k] = ExtractFeatures(v.data, v.width, v.height, v.stride, options);
    };
    if (threads > 1) {
      ParallelFor(images.size(), threads, extract);
      return;
    }
    extractor_->Run([&] {
      for (size_t k = 0; k < images.size(); ++k) extract(k);
    });
  }
  Napi::Value Result(Napi::Env env) override {
    CheckAlive(*geo_);
    if (!batch_) return NewFeatureSet(env, geo_.get(), std::move(results_[0]));
    Napi::Array out = Napi::Array::New(env, results_.size());
    for (size_t k = 0; k < results_.size(); ++k)
      out.Set(static_cast<uint32_t>(k), NewFeatureSet(env, geo_.get(), std::move(results_[k])));
    return out;
  }

 private:
  std::shared_ptr<GeometryEnv> geo_;
  std::shared_ptr<SerialExecutor> extractor_;
  bool batch_;
  std::vector<FeatureData> results_;
};

Napi::Value ExtractFeaturesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return StartJob(env, new ExtractJob(env, GeoOf(info), false), [&](ExtractJob& job) {
    job.images.push_back(ReadImageArg(info[0], Plane::Gray, job, "image"));
    job.options = ReadFeatureOptions(OptionsArg(info, 1));
  });
}

Napi::Value ExtractFeaturesBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return StartJob(env, new ExtractJob(env, GeoOf(info), true), [&](ExtractJob& job) {
    if (!info[0].IsArray()) Fail(ErrorCode::InvalidArg, "Expected an array of images for images");
    Napi::Array images = info[0].As<Napi::Array>();
    for (uint32_t k = 0; k < images.Length(); ++k)
      job.images.push_back(ReadImageArg(images.Get(k), Plane::Gray, job, "images[" + std::to_string(k) + "]"));
    Napi::Object o = OptionsArg(info, 1);
    job.options = ReadFeatureOptions(o);
    job.threads = ThreadsOr(o, 1);
  });
}

Napi::Uint32Array U32(Napi::Env env, const std::vector<uint32_t>& v) {
  Napi::Uint32Array a = Napi::Uint32Array::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(uint32_t));
  return a;
}

// ---- matchPairs(sets, pairs: Uint32Array [i0,j0,i1,j1,...], opts) ----

class MatchJob : public PromiseJob {
 public:
  MatchJob(Napi::Env env, GeometryEnv* geo) : PromiseJob(env, "framesift:matchPairs"), geo_(geo->shared_from_this()) {}
  std::vector<std::shared_ptr<const FeatureData>> sets;
  std::vector<uint32_t> pairs;
  MatchOptions options;
  int threads = 2;
  bool keepGraph = true;
  bool keepMatches = false;  // return each pair's putative and inlier index pairs

 protected:
  void Run() override {
    const size_t count = pairs.size() / 2;
    results_.resize(count);
    errors_.resize(count);
    // One index per SIFT set, built on first use by whichever thread needs it and shared by all
    // that set's pairs: FLANN's from the environment's cache (earlier jobs' too), held here
    // until the job ends; the exact matcher's unit rows for this job only.
    std::vector<std::shared_ptr<const DescriptorIndex>> indexes(sets.size());
    std::unique_ptr<std::once_flag[]> built(new std::once_flag[sets.size()]);
    auto indexOf = [&](uint32_t k) -> const DescriptorIndex* {
      if (sets[k]->kind != FeatureKind::Sift) return nullptr;
      std::call_once(built[k], [&] {
        indexes[k] = options.exact ? std::make_shared<const DescriptorIndex>(*sets[k], true) : geo_->indexes->Get(sets[k]);
      });
      return indexes[k].get();
    };
    ParallelFor(count, threads, [&](size_t p) {
      try {
        const uint32_t i = pairs[2 * p], j = pairs[2 * p + 1];
        if (auto cached = geo_->pairs->Find(sets[i], sets[j], options)) {
          results_[p] = *cached;
          return;
        }
        results_[p] = MatchAndVerify(*sets[i], *sets[j], options, indexOf(i), indexOf(j));
        geo_->pairs->Put(sets[i], sets[j], options, std::make_shared<const PairResult>(results_[p]));
      } catch (const std::exception& e) {  // one bad pair must not sink the others
        results_[p] = PairResult{};
        errors_[p] = e.what();
      }
    });
    if (!keepGraph) return;
    auto graph = std::make_shared<MatchGraphData>();
    graph->frames.resize(sets.size());
    graph->keypoints.resize(sets.size());
    for (size_t f = 0; f < sets.size(); ++f) {
      graph->keypoints[f] = sets[f]->xy;
      graph->frames[f] = TrackFrameInput{static_cast<uint32_t>(sets[f]->Count()), graph->keypoints[f].data(),
                                         sets[f]->width, sets[f]->height};
    }
    for (size_t p = 0; p < count; ++p) {
      if (!results_[p].verified) continue;
      graph->inliers.push_back(results_[p].inliers);
    }
    for (size_t p = 0, q = 0; p < count; ++p) {
      if (!results_[p].verified) continue;
      const auto& m = graph->inliers[q++];
      graph->pairs.push_back(TrackPairInput{pairs[2 * p], pairs[2 * p + 1], m.data(), m.size() / 2});
    }
    graph_ = graph;
    sets.clear();  // the graph keeps what it needs; descriptors can go as soon as JS drops them
  }

  Napi::Value Result(Napi::Env env) override {
    CheckAlive(*geo_);
    Napi::Array list = Napi::Array::New(env, results_.size());
    for (size_t p = 0; p < results_.size(); ++p) {
      const PairResult& r = results_[p];
      Napi::Object o = Napi::Object::New(env);
      o.Set("i", pairs[2 * p]);
      o.Set("j", pairs[2 * p + 1]);
      o.Set("matches", r.matches);
      o.Set("fInliers", r.fInliers);
      o.Set("fInlierRatio", r.fInlierRatio);
      o.Set("hInliers", r.hInliers);
      o.Set("hInlierRatio", r.hInlierRatio);
      o.Set("degeneracy", r.degeneracy);
      o.Set("meanEpipolarErrorPx", r.meanEpipolarErrorPx);
      o.Set("medianParallaxPx", r.medianParallaxPx);
      o.Set("medianDisplacementPx", r.medianDisplacementPx);
      o.Set("triangulationAngleDeg", r.triangulationAngleDeg);
      o.Set("verified", r.verified);
      o.Set("method", r.method == FMethod::Magsac ? "magsac" : r.method == FMethod::Ransac ? "ransac" : "none");
      o.Set("F", Matrix(env, r.hasF, r.F));
      o.Set("H", Matrix(env, r.hasH, r.H));
      if (keepMatches) {
        o.Set("matchIndices", U32(env, r.putative));
        o.Set("inlierIndices", U32(env, r.inliers));
      }
      if (!errors_[p].empty()) o.Set("error", errors_[p]);
      list.Set(static_cast<uint32_t>(p), o);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("pairs", list);
    if (graph_) {
      geo_->pendingGraph = graph_;
      out.Set("graph", geo_->matchGraphClass.New({Napi::External<GeometryEnv>::New(env, geo_.get())}));
      geo_->pendingGraph.reset();
    } else {
      out.Set("graph", env.Null());
    }
    return out;
  }

 private:
  static Napi::Value Matrix(Napi::Env env, bool has, const std::array<double, 9>& m) {
    if (!has) return env.Null();
    Napi::Array a = Napi::Array::New(env, 9);
    for (uint32_t k = 0; k < 9; ++k) a.Set(k, m[k]);
    return a;
  }
  std::shared_ptr<GeometryEnv> geo_;
  std::vector<PairResult> results_;
  std::vector<std::string> errors_;
  std::shared_ptr<const MatchGraphData> graph_;
};

Napi::Value MatchPairsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GeometryEnv* geo = GeoOf(info);
  return StartJob(env, new MatchJob(env, geo), [&](MatchJob& job) {
    if (!info[0].IsArray()) Fail(ErrorCode::InvalidArg, "Expected an array of FeatureSets for sets");
    Napi::Array sets = info[0].As<Napi::Array>();
    for (uint32_t k = 0; k < sets.Length(); ++k)
      job.sets.push_back(FeatureSetArg(geo, sets.Get(k), "sets[" + std::to_string(k) + "]"));
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      Fail(ErrorCode::InvalidArg, "Expected a Uint32Array of [i, j] pairs for pairs");
    Napi::Uint32Array pairs = info[1].As<Napi::Uint32Array>();
    if (pairs.ElementLength() % 2 != 0) Fail(ErrorCode::InvalidArg, "Expected an even length for pairs");
    job.pairs.assign(pairs.Data(), pairs.Data() + pairs.ElementLength());
    for (size_t k = 0; k < job.pairs.size(); k += 2) {
      if (job.pairs[k] >= job.sets.size() || job.pairs[k + 1] >= job.sets.size() || job.pairs[k] == job.pairs[k + 1])
        Fail(ErrorCode::InvalidArg, "Expected pairs of distinct set indices below " + std::to_string(job.sets.size()) +
                                        " for pairs[" + std::to_string(k / 2) + "]");
      if (job.sets[job.pairs[k]]->kind != job.sets[job.pairs[k + 1]]->kind)
        Fail(ErrorCode::InvalidArg, "Expected feature sets of one kind (sift or orb) for pairs[" + std::to_string(k / 2) + "]");
    }
    Napi::Object o = OptionsArg(info, 2);
    job.options = ReadMatchOptions(o);
    job.threads = ThreadsOr(o, 2);
    job.keepGraph = BoolOr(o, "keepGraph", true);
    job.keepMatches = BoolOr(o, "keepMatches", false);
  });
}

// ---- colmapFeatures(sets, scales: Float64Array [sx0, sy0, sx1, sy1, ...]) ----

class ColmapFeaturesJob : public PromiseJob {
 public:
  explicit ColmapFeaturesJob(Napi::Env env) : PromiseJob(env, "framesift:colmapFeatures") {}
  std::vector<std::shared_ptr<const FeatureData>> sets;
  std::vector<double> scales;

 protected:
  void Run() override {
    keypoints_.resize(sets.size());
    descriptors_.resize(sets.size());
    for (size_t k = 0; k < sets.size(); ++k) {
      const FeatureData& set = *sets[k];
      keypoints_[k].resize(static_cast<size_t>(set.Count()) * kColmapKeypointCols);
      descriptors_[k].resize(static_cast<size_t>(set.Count()) * set.descriptors.cols);
      ColmapKeypoints(set, scales[2 * k], scales[2 * k + 1], keypoints_[k].data());
      ColmapDescriptors(set, descriptors_[k].data());
    }
    sets.clear();
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, keypoints_.size());
    for (size_t k = 0; k < keypoints_.size(); ++k) {
      Napi::Object o = Napi::Object::New(env);
      Napi::Float32Array xy = Napi::Float32Array::New(env, keypoints_[k].size());
      if (!keypoints_[k].empty()) std::memcpy(xy.Data(), keypoints_[k].data(), keypoints_[k].size() * sizeof(float));
      Napi::Uint8Array d = Napi::Uint8Array::New(env, descriptors_[k].size());
      if (!descriptors_[k].empty()) std::memcpy(d.Data(), descriptors_[k].data(), descriptors_[k].size());
      o.Set("keypoints", xy);
      o.Set("descriptors", d);
      out.Set(static_cast<uint32_t>(k), o);
    }
    return out;
  }

 private:
  std::vector<std::vector<float>> keypoints_;
  std::vector<std::vector<uint8_t>> descriptors_;
};

Napi::Value ColmapFeaturesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GeometryEnv* geo = GeoOf(info);
  return StartJob(env, new ColmapFeaturesJob(env), [&](ColmapFeaturesJob& job) {
    if (!info[0].IsArray()) Fail(ErrorCode::InvalidArg, "Expected an array of FeatureSets for sets");
    Napi::Array sets = info[0].As<Napi::Array>();
    for (uint32_t k = 0; k < sets.Length(); ++k) {
      auto set = FeatureSetArg(geo, sets.Get(k), "sets[" + std::to_string(k) + "]");
      if (set->kind != FeatureKind::Sift)
        Fail(ErrorCode::InvalidArg, "Expected SIFT features for sets[" + std::to_string(k) + "] (COLMAP matches SIFT)");
      job.sets.push_back(std::move(set));
    }
    if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[1].As<Napi::Float64Array>().ElementLength() != 2 * job.sets.size())
      Fail(ErrorCode::InvalidArg, "Expected a Float64Array of 2 scales per set for scales");
    Napi::Float64Array scales = info[1].As<Napi::Float64Array>();
    job.scales.assign(scales.Data(), scales.Data() + scales.ElementLength());
    for (double v : job.scales)
      if (!(v > 0 && std::isfinite(v))) Fail(ErrorCode::InvalidArg, "Expected positive finite scales for scales");
  });
}

// ---- buildTracks(source, opts): source is a MatchGraph or synthetic match lists ----

// The track builder allocates 16 bytes per feature of every frame: synthetic lists (a few
// bytes naming feature 4e9) must not make it allocate gigabytes. Real graphs hold a few
// thousand features per frame.
constexpr uint64_t kMaxTotalFeatures = 1ull << 26;

void CheckTotalFeatures(uint64_t total, const char* source) {
  if (total > kMaxTotalFeatures)
    Fail(ErrorCode::InvalidArg, "Expected at most " + std::to_string(kMaxTotalFeatures) + " features in all for " + source +
                                    " but received " + std::to_string(total));
}

class TracksJob : public PromiseJob {
 public:
  explicit TracksJob(Napi::Env env) : PromiseJob(env, "framesift:buildTracks") {}
  std::shared_ptr<const MatchGraphData> graph;  // or the synthetic lists below
  std::vector<TrackFrameInput> frames;
  std::vector<TrackPairInput> pairs;
  bool deriveCounts = false;
  TrackOptions options;

 protected:
  void Run() override {
    if (graph) {
      result_ = BuildTracks(graph->frames, graph->pairs, options);
      return;
    }
    if (deriveCounts) {  // feature counts not given: the highest index seen in each frame + 1
      std::vector<uint64_t> counts(frames.size(), 0);  // pair indices were checked on the JS thread
      for (const auto& p : pairs) {
        for (size_t m = 0; m < p.count; ++m) {
          counts[p.i] = std::max<uint64_t>(counts[p.i], uint64_t{p.matches[2 * m]} + 1);
          counts[p.j] = std::max<uint64_t>(counts[p.j], uint64_t{p.matches[2 * m + 1]} + 1);
        }
      }
      uint64_t total = 0;
      for (uint64_t c : counts) total += c;
      CheckTotalFeatures(total, "the match indices (featureCounts omitted)");
      for (size_t f = 0; f < frames.size(); ++f) frames[f].featureCount = static_cast<uint32_t>(counts[f]);
    }
    result_ = BuildTracks(frames, pairs, options);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("frameCount", static_cast<double>(result_.perFrameTracks.size()));
    o.Set("tracks", result_.tracks);
    o.Set("tracksAtLeast2", result_.tracks);
    o.Set("tracksAtLeast3", result_.tracksAtLeast3);
    o.Set("conflictingTracks", result_.conflictingTracks);
    o.Set("observations", static_cast<double>(result_.observations));
    o.Set("lengthHistogram", U32(env, result_.lengthHistogram));
    o.Set("perFrameTracks", U32(env, result_.perFrameTracks));
    Napi::Float32Array coverage = Napi::Float32Array::New(env, result_.perFrameCoverage.size());
    if (!result_.perFrameCoverage.empty())
      std::memcpy(coverage.Data(), result_.perFrameCoverage.data(), result_.perFrameCoverage.size() * sizeof(float));
    o.Set("perFrameCoverage", coverage);
    o.Set("consecutiveShared", U32(env, result_.consecutiveShared));
    if (result_.weakestLink >= 0) {
      Napi::Object w = Napi::Object::New(env);
      w.Set("frame", result_.weakestLink);
      w.Set("shared", result_.weakestLinkShared);
      o.Set("weakestLink", w);
    } else {
      o.Set("weakestLink", env.Null());
    }
    if (options.keepTracks) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("offsets", U32(env, result_.trackOffsets));
      t.Set("frames", U32(env, result_.trackFrames));
      t.Set("features", U32(env, result_.trackFeatures));
      o.Set("trackList", t);
    }
    return o;
  }

 private:
  TrackResult result_;
};

Napi::Uint32Array U32Arg(Napi::Object obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    Fail(ErrorCode::InvalidArg, std::string("Expected a Uint32Array for ") + key);
  return v.As<Napi::Uint32Array>();
}

void ReadSyntheticLists(TracksJob& job, Napi::Object src) {
  double frameCount = NumberOr(src, "frameCount", -1);
  if (!(frameCount >= 0 && frameCount <= 1e7)) Fail(ErrorCode::InvalidArg, "Expected a frame count for frameCount");
  job.frames.assign(static_cast<size_t>(frameCount), TrackFrameInput{});
  Napi::Uint32Array pairs = U32Arg(src, "pairs"), offsets = U32Arg(src, "offsets"), matches = U32Arg(src, "matches");
  job.KeepAlive(pairs);
  job.KeepAlive(offsets);
  job.KeepAlive(matches);
  size_t pairCount = pairs.ElementLength() / 2;
  if (pairs.ElementLength() % 2 != 0 || offsets.ElementLength() != pairCount + 1)
    Fail(ErrorCode::InvalidArg, "Expected pairs of length 2P and offsets of length P + 1");
  size_t matchCount = matches.ElementLength() / 2;
  const size_t frames = job.frames.size();
  for (size_t p = 0; p < pairCount; ++p) {
    uint32_t b = offsets[p], e = offsets[p + 1];
    if (b > e || e > matchCount) Fail(ErrorCode::InvalidArg, "Expected non-decreasing offsets within the matches for offsets");
    // Checked here, before Run() indexes frames[] with them (the derived counts below).
    const uint32_t i = pairs[2 * p], j = pairs[2 * p + 1];
    if (i >= frames || j >= frames || i == j)
      Fail(ErrorCode::InvalidArg, "Expected two distinct frame indices below frameCount (" + std::to_string(frames) +
                                      ") for pairs[" + std::to_string(p) + "] but received [" + std::to_string(i) + ", " +
                                      std::to_string(j) + "]");
    job.pairs.push_back(TrackPairInput{i, j, matches.Data() + 2 * static_cast<size_t>(b), e - b});
  }
  Napi::Value counts = src.Get("featureCounts");
  if (counts.IsUndefined() || counts.IsNull()) {
    job.deriveCounts = true;  // in Run(): O(matches), and checked against the same cap there
  } else {
    Napi::Uint32Array c = U32Arg(src, "featureCounts");
    if (c.ElementLength() != job.frames.size()) Fail(ErrorCode::InvalidArg, "Expected frameCount entries in featureCounts");
    uint64_t total = 0;
    for (size_t f = 0; f < job.frames.size(); ++f) total += job.frames[f].featureCount = c[f];
    CheckTotalFeatures(total, "featureCounts");
  }
  Napi::Value keypoints = src.Get("keypoints");
  if (keypoints.IsArray()) {
    if (job.deriveCounts) Fail(ErrorCode::InvalidArg, "Expected featureCounts with keypoints");
    int width = static_cast<int>(NumberOr(src, "width", 0)), height = static_cast<int>(NumberOr(src, "height", 0));
    if (width <= 0 || height <= 0) Fail(ErrorCode::InvalidArg, "Expected width and height with keypoints");
    Napi::Array list = keypoints.As<Napi::Array>();
    for (uint32_t f = 0; f < list.Length() && f < job.frames.size(); ++f) {
      Napi::Value k = list.Get(f);
      if (k.IsUndefined() || k.IsNull()) continue;
      if (!k.IsTypedArray() || k.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        Fail(ErrorCode::InvalidArg, "Expected a Float32Array for keypoints[" + std::to_string(f) + "]");
      Napi::Float32Array xy = k.As<Napi::Float32Array>();
      if (xy.ElementLength() < 2 * static_cast<size_t>(job.frames[f].featureCount))
        Fail(ErrorCode::InvalidArg, "Expected 2 x featureCounts[" + std::to_string(f) + "] values for keypoints[" +
                                        std::to_string(f) + "]");
      job.KeepAlive(xy);
      job.frames[f].xy = xy.Data();
      job.frames[f].width = width;
      job.frames[f].height = height;
    }
  }
}

Napi::Value BuildTracksJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GeometryEnv* geo = GeoOf(info);
  return StartJob(env, new TracksJob(env), [&](TracksJob& job) {
    if (!info[0].IsObject()) Fail(ErrorCode::InvalidArg, "Expected a MatchGraph or match lists for source");
    Napi::Object src = info[0].As<Napi::Object>();
    if (src.InstanceOf(geo->matchGraphClass.Value())) job.graph = MatchGraphWrap::Unwrap(src)->Data("graph");
    else ReadSyntheticLists(job, src);
    Napi::Object o = OptionsArg(info, 1);
    job.options.gridCols = static_cast<int>(NumberOr(o, "gridCols", 8));
    job.options.gridRows = static_cast<int>(NumberOr(o, "gridRows", 8));
    job.options.keepTracks = BoolOr(o, "keepTracks", false);
    if (job.options.gridCols < 1 || job.options.gridRows < 1 || job.options.gridCols > 256 || job.options.gridRows > 256)
      Fail(ErrorCode::InvalidArg, "Expected gridCols and gridRows from 1 to 256");
  });
}

}  // namespace

// Empties the FLANN index cache and the pair results (a pipeline after its tracks stage);
// returns how many indexes it held.
Napi::Value ReleaseMatchIndexesJs(const Napi::CallbackInfo& info) {
  GeometryEnv* geo = GeoOf(info);
  const size_t held = geo->indexes->Size();
  geo->indexes->Clear();
  geo->pairs->Clear();
  return Napi::Number::New(info.Env(), static_cast<double>(held));
}

// What the matching caches hold: { indexes, pairs } (diagnostics and tests).
Napi::Value MatchCacheSizesJs(const Napi::CallbackInfo& info) {
  GeometryEnv* geo = GeoOf(info);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("indexes", static_cast<double>(geo->indexes->Size()));
  out.Set("pairs", static_cast<double>(geo->pairs->Size()));
  return out;
}

void InitGeometry(Napi::Env env, Napi::Object exports) {
  // Owned by a shared_ptr: the functions' data pointer and the cleanup hook share it with
  // every job, so a job finishing during teardown never sees freed memory.
  auto owner = std::make_shared<GeometryEnv>();
  GeometryEnv* geo = owner.get();
  auto* holder = new std::shared_ptr<GeometryEnv>(owner);
  env.AddCleanupHook([holder]() {
    GeometryEnv& g = **holder;
    g.alive = false;
    g.extractor->Stop();
    g.featureSetClass.Reset();
    g.matchGraphClass.Reset();
    delete holder;
  });
  Napi::Function featureSet = FeatureSetWrap::Define(env, geo);
  Napi::Function matchGraph = MatchGraphWrap::Define(env, geo);
  geo->featureSetClass = Napi::Persistent(featureSet);
  geo->matchGraphClass = Napi::Persistent(matchGraph);
  exports.Set("FeatureSet", featureSet);
  exports.Set("MatchGraph", matchGraph);
  exports.Set("extractFeatures", Napi::Function::New(env, ExtractFeaturesJs, "extractFeatures", geo));
  exports.Set("extractFeaturesBatch", Napi::Function::New(env, ExtractFeaturesBatchJs, "extractFeaturesBatch", geo));
  exports.Set("matchPairs", Napi::Function::New(env, MatchPairsJs, "matchPairs", geo));
  exports.Set("releaseMatchIndexes", Napi::Function::New(env, ReleaseMatchIndexesJs, "releaseMatchIndexes", geo));
  exports.Set("matchCacheSizes", Napi::Function::New(env, MatchCacheSizesJs, "matchCacheSizes", geo));
  exports.Set("featureSetFromBuffer", Napi::Function::New(env, FeatureSetFromBufferJs, "featureSetFromBuffer", geo));
  exports.Set("buildTracks", Napi::Function::New(env, BuildTracksJs, "buildTracks", geo));
  exports.Set("colmapFeatures", Napi::Function::New(env, ColmapFeaturesJs, "colmapFeatures", geo));
}

}  // namespace framesift
