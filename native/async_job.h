// Baton pattern for work off the JS thread: a job copies what it needs into C++ members on
// the JS thread, keeps the JS objects that own its input buffers alive, runs Run() on the
// libuv threadpool touching only C++ data, and settles its promise exactly once. Errors
// are data: nothing is thrown across threads.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

#include "errors.h"
#include "js_errors.h"

namespace framesift {

class PromiseJob : public Napi::AsyncWorker {
 public:
  explicit PromiseJob(Napi::Env env, const char* name = "framesift")
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Queues the job and returns its promise.
  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

  // Keeps a JS value (an input Buffer, a frame) alive until the job settles.
  void KeepAlive(Napi::Value value) { keep_.push_back(Napi::Persistent(value)); }

  // For a job whose arguments failed to parse before Start(): undoes its pins, frees it.
  void Discard() {
    Settle();
    delete this;
  }

  // Called on the JS thread once the job has settled, success or not (e.g. to unpin frames).
  void OnSettled(std::function<void()> fn) { settled_.push_back(std::move(fn)); }

 protected:
  virtual void Run() = 0;                              // threadpool; may throw
  virtual Napi::Value Result(Napi::Env env) = 0;       // JS thread

 private:
  void Execute() final {
    try {
      Run();
    } catch (const Error& e) {
      failure_ = std::make_unique<Error>(e);
    } catch (const std::exception& e) {
      failure_ = std::make_unique<Error>(ErrorCode::Internal, e.what());
    } catch (...) {
      failure_ = std::make_unique<Error>(ErrorCode::Internal, "unknown native exception");
    }
  }

  // Settling can itself fail when the environment is shutting down (a worker thread being
  // terminated): there is nobody left to tell, and throwing here would abort the process.
  void OnOK() final {
    try {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      Settle();
      if (failure_) {
        deferred_.Reject(MakeJsError(env, *failure_).Value());
        return;
      }
      try {
        deferred_.Resolve(Result(env));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      } catch (const Error& e) {
        deferred_.Reject(MakeJsError(env, e).Value());
      } catch (const std::exception& e) {
        deferred_.Reject(MakeJsError(env, Error(ErrorCode::Internal, e.what())).Value());
      }
    } catch (...) {
    }
  }

  void OnError(const Napi::Error& e) final {
    try {
      Settle();
      deferred_.Reject(e.Value());
    } catch (...) {
    }
  }

  void Settle() {
    for (auto& fn : settled_) fn();
    settled_.clear();
  }

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> keep_;
  std::vector<std::function<void()>> settled_;
  std::unique_ptr<Error> failure_;
};

// Creates the job's arguments with `setup(job)` on the JS thread and starts it. A setup that
// throws (bad arguments) discards the job (unpinning what it pinned) and throws a JS error.
template <typename Job, typename Setup>
Napi::Value StartJob(Napi::Env env, Job* job, Setup&& setup) {
  try {
    setup(*job);
  } catch (...) {
    job->Discard();
    GuardJs(env, [] { throw; });  // rethrow the active exception, converted to a JS error
  }
  return job->Start();
}

}  // namespace framesift
