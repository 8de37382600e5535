// Runs fn(0..n-1) on `threads` threads (the caller's plus threads-1 std::threads), handing out
// indices one at a time so uneven items balance. The first exception is rethrown after all
// threads have joined. Used inside a PromiseJob's Run(), i.e. off the JS thread.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace framesift {

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn) {
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto worker = [&]() {
    for (;;) {
      size_t index = next.fetch_add(1);
      if (index >= n) return;
      try {
        fn(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failureMutex);
        if (!failure) failure = std::current_exception();
        next.store(n);
      }
    }
  };
  size_t extra = static_cast<size_t>(std::max(1, threads)) - 1;
  extra = std::min(extra, n > 0 ? n - 1 : 0);
  std::vector<std::thread> pool;
  pool.reserve(extra);
  for (size_t t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace framesift
