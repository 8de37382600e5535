// One long-lived thread that runs submitted tasks in order; callers block until their task
// is done. Feature extraction goes through it: OpenCV's SIFT allocates ~100 MB of scratch per
// 960x540 frame and parallelises inside (TBB), and when successive frames land on different
// libuv threads (different malloc arenas, cold pages, a new TBB external thread each time)
// it ran 20-40% slower than the same loop on one thread; on one thread it matches a plain
// C++ loop (bench/geometry.ts). Frames are not extracted side by side anyway: each SIFT call
// already uses every core.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace framesift {

class SerialExecutor {
 public:
  SerialExecutor() = default;
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;
  ~SerialExecutor() { Stop(); }

  // Runs fn on the executor thread and waits for it; rethrows what fn threw. After Stop(),
  // runs fn on the caller's thread.
  void Run(const std::function<void()>& fn) {
    std::packaged_task<void()> task(fn);
    std::future<void> done = task.get_future();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (stopped_) {
        lock.unlock();
        fn();
        return;
      }
      if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    done.get();
  }

  // Finishes the queued tasks and joins the thread (environment teardown).
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopped and drained
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();  // exceptions land in the task's future
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<void()>> queue_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace framesift
