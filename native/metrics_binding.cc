// N-API glue for the metrics: measureFrames(frames, {metrics, threads, previous}) reads the
// frames by pointer (pinned for the job), measures them on the libuv threadpool with a fixed
// number of workers, and returns a structure of typed arrays (one per field).
#include <napi.h>

#include <atomic>
#include <mutex>
#include <opencv2/core.hpp>
#include <thread>
#include <ctime>

#include "async_job.h"
#include "image_arg.h"
#include "metrics.h"

namespace framesift {
namespace {

using metrics::FrameMetrics;
using metrics::GrayView;

// Runs fn(index, scratch) for index in [0, count) on `threads` workers (the calling thread is
// one of them). Items are claimed from an atomic counter; each writes only its own result, so
// the output does not depend on the schedule. The first failure by index is rethrown.
// CPU time of the calling thread in ms (immune to other processes competing for the cores).
double ThreadCpuMs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

template <typename Fn>
void ParallelFor(size_t count, std::vector<metrics::ScratchPtr>& scratch, Fn&& fn) {
  std::atomic<size_t> next{0};
  std::mutex failureMutex;
  size_t failedIndex = SIZE_MAX;
  std::exception_ptr failure;
  auto worker = [&](size_t w) {
    for (size_t i; (i = next.fetch_add(1)) < count;) {
      try {
        fn(i, *scratch[w]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failureMutex);
        if (i < failedIndex) failedIndex = i, failure = std::current_exception();
      }
    }
  };
  const size_t workers = std::min(scratch.size(), count);
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(worker, w);
    } catch (...) {
      break;  // no thread to spare: the others take its share (never leave a thread unjoined)
    }
  }
  worker(0);
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

class MeasureJob : public PromiseJob {
 public:
  explicit MeasureJob(Napi::Env env) : PromiseJob(env, "framesift.measureFrames") {}

  std::vector<GrayView> frames;
  GrayView previous;
  bool hasPrevious = false;
  uint32_t selection = 0;
  int threads = 1;
  bool timing = false;

 protected:
  void Run() override {
    // framesift parallelises over frames itself; OpenCV's own pool (process-wide) is set to
    // one thread once so per-frame OpenCV calls never multiply the workers' threads.
    static std::once_flag openCvThreads;
    std::call_once(openCvThreads, [] { cv::setNumThreads(1); });

    const size_t n = frames.size();
    results_.assign(n, FrameMetrics());
    cpuMs_.assign(timing ? n : 0, 0.0);
    if (n == 0) return;
    // Sequence of images: the previous batch's last frame (if any), then this batch.
    std::vector<GrayView> sequence;
    if (hasPrevious) sequence.push_back(previous);
    sequence.insert(sequence.end(), frames.begin(), frames.end());
    const size_t offset = hasPrevious ? 1 : 0;
    const bool spectra = selection & metrics::kPhaseCorrelation;
    std::vector<metrics::Spectrum> spectrum(spectra ? sequence.size() : 0);
    // Each frame's tracking pyramid and corners, built once for both pairs it belongs to.
    const bool motion = selection & metrics::kCameraMotion;
    std::vector<metrics::MotionPrep> motionPrep(motion ? sequence.size() : 0);

    std::vector<metrics::ScratchPtr> scratch;
    const size_t workers = std::max<size_t>(1, std::min<size_t>(threads, sequence.size()));
    for (size_t w = 0; w < workers; ++w) scratch.push_back(metrics::NewScratch());

    const uint32_t single = selection & ~metrics::kPairMetrics;
    ParallelFor(sequence.size(), scratch, [&](size_t j, metrics::Scratch& s) {
      if (j < offset) {
        if (spectra) metrics::ComputeSpectrum(sequence[j], s, spectrum[j]);
        if (motion) metrics::PrepareMotionAsMeasured(sequence[j], selection, s, motionPrep[j]);
        return;
      }
      const double start = timing ? ThreadCpuMs() : 0;
      const uint32_t prepared = (spectra ? static_cast<uint32_t>(metrics::kPhaseCorrelation) : 0u) |
                                (motion ? static_cast<uint32_t>(metrics::kCameraMotion) : 0u);
      metrics::MeasureFrame(sequence[j], single | prepared, s, results_[j - offset], spectra ? &spectrum[j] : nullptr,
                            motion ? &motionPrep[j] : nullptr);
      if (timing) cpuMs_[j - offset] += ThreadCpuMs() - start;
    });
    if (!(selection & metrics::kPairMetrics) || sequence.size() < 2) return;
    const metrics::Spectrum none;  // pairs without spectra (phase correlation not selected)
    ParallelFor(sequence.size() - 1, scratch, [&](size_t k, metrics::Scratch& s) {
      const size_t j = k + 1;  // pair (j-1, j) belongs to frame j - offset
      const double start = timing ? ThreadCpuMs() : 0;
      metrics::MeasurePair(sequence[j - 1], sequence[j], spectra ? spectrum[j - 1] : none,
                           spectra ? spectrum[j] : none, selection, s, results_[j - offset],
                           motion ? &motionPrep[j - 1] : nullptr, motion ? &motionPrep[j] : nullptr);
      if (timing) cpuMs_[j - offset] += ThreadCpuMs() - start;
    });
  }

  Napi::Value Result(Napi::Env env) override {
    const size_t n = results_.size();
    Napi::Object out = Napi::Object::New(env);
    out.Set("count", static_cast<double>(n));
    out.Set("metrics", static_cast<double>(selection));
    for (const metrics::FieldInfo& field : metrics::Fields()) {
      if (!(selection & field.metric)) continue;
      Napi::Float64Array values = Napi::Float64Array::New(env, n);
      for (size_t i = 0; i < n; ++i) values[i] = results_[i].*field.member;
      out.Set(field.name, values);
    }
    if (selection & metrics::kPhash) {
      Napi::BigUint64Array hashes = Napi::BigUint64Array::New(env, n);
      for (size_t i = 0; i < n; ++i) hashes[i] = results_[i].phash;
      out.Set("phash", hashes);
    }
    if (timing) {
      Napi::Float64Array cpu = Napi::Float64Array::New(env, n);
      for (size_t i = 0; i < n; ++i) cpu[i] = cpuMs_[i];
      out.Set("cpuMs", cpu);
    }
    return out;
  }

 private:
  std::vector<FrameMetrics> results_;
  std::vector<double> cpuMs_;  // per frame, when timing: CPU ms of its own and its pair's work
};

GrayView ReadGray(Napi::Value value, MeasureJob& job, const std::string& what) {
  ImageView view = ReadImageArg(value, Plane::Gray, job, what);
  if (view.width < metrics::kMinSide || view.height < metrics::kMinSide)
    Fail(ErrorCode::InvalidArg, "Expected an image of at least " + std::to_string(metrics::kMinSide) + "x" +
                                    std::to_string(metrics::kMinSide) + " pixels for " + what + " but received " +
                                    std::to_string(view.width) + "x" + std::to_string(view.height));
  return GrayView{view.data, view.width, view.height, view.stride};
}

Napi::Value MeasureFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return StartJob(env, new MeasureJob(env), [&](MeasureJob& job) {
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject())
      Fail(ErrorCode::InvalidArg, "Expected measureFrames(frames: array, options: object)");
    Napi::Object options = info[1].As<Napi::Object>();
    // Cheap guards only: src/metrics.ts validates the options with full messages.
    const double selection = options.Get("metrics").ToNumber().DoubleValue();
    if (!(selection >= 0 && selection <= metrics::kAllMetrics) || selection != static_cast<uint32_t>(selection))
      Fail(ErrorCode::InvalidArg, "Expected a metric bitmask for options.metrics");
    const double threads = options.Get("threads").ToNumber().DoubleValue();
    if (!(threads >= 1 && threads <= 64)) Fail(ErrorCode::InvalidArg, "Expected 1 to 64 for options.threads");
    job.selection = static_cast<uint32_t>(selection);
    job.threads = static_cast<int>(threads);
    job.timing = options.Get("timing").ToBoolean();
    Napi::Array frames = info[0].As<Napi::Array>();
    job.frames.reserve(frames.Length());
    for (uint32_t i = 0; i < frames.Length(); ++i)
      job.frames.push_back(ReadGray(frames.Get(i), job, "frames[" + std::to_string(i) + "]"));
    Napi::Value previous = options.Get("previous");
    if (!previous.IsUndefined() && !previous.IsNull()) {
      job.previous = ReadGray(previous, job, "options.previous");
      job.hasPrevious = true;
    }
  });
}

}  // namespace

void InitMetrics(Napi::Env env, Napi::Object exports) {
  exports.Set("measureFrames", Napi::Function::New(env, MeasureFrames, "measureFrames"));
  Napi::Object names = Napi::Object::New(env);
  for (const metrics::FieldInfo& field : metrics::Fields()) names.Set(field.name, static_cast<double>(field.metric));
  exports.Set("metricFields", names);
}

}  // namespace framesift
