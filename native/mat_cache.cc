#include "mat_cache.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include <opencv2/core.hpp>

namespace framesift {
namespace {

// core_c.h's CV_AUTOSTEP: a step the caller leaves to the allocator.
constexpr size_t kAutoStep = 0x7fffffff;
// Marks a block the cache takes back (UMatData::userdata, unused by Mats of this allocator).
constexpr char kCachedTag = 0;
// Mat caching scopes open on this thread.
thread_local int scopes = 0;
// Smaller blocks come from malloc's bins, which keep them anyway.
constexpr size_t kMinCachedBytes = size_t{1} << 20;
// At most this much is held free: two SIFT threads' scale spaces at 960 px (~125 MB each), with
// room to spare; a block that would pass it is freed as before.
constexpr size_t kMaxCachedBytes = size_t{384} << 20;

class MatCache final : public cv::MatAllocator {
 public:
  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data0, size_t* step, cv::AccessFlag,
                         cv::UMatUsageFlags) const override {
    // The layout rule of OpenCV's own allocator: steps from the innermost dimension out, a
    // caller's step kept for data it owns.
    size_t total = CV_ELEM_SIZE(type);
    for (int i = dims - 1; i >= 0; --i) {
      if (step) {
        if (data0 && step[i] != kAutoStep) {
          CV_Assert(total <= step[i]);
          total = step[i];
        } else {
          step[i] = total;
        }
      }
      total *= static_cast<size_t>(sizes[i]);
    }
    const bool cached = !data0 && scopes > 0 && total >= kMinCachedBytes;
    uchar* data = static_cast<uchar*>(data0);
    if (!data) data = cached ? Take(total) : static_cast<uchar*>(cv::fastMalloc(total));
    auto* u = new cv::UMatData(this);
    u->data = u->origdata = data;
    u->size = total;
    if (data0) u->flags |= cv::UMatData::USER_ALLOCATED;
    if (cached) u->userdata = const_cast<char*>(&kCachedTag);  // freed into the cache, on whatever thread
    return u;
  }

  bool allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const override { return u != nullptr; }

  void deallocate(cv::UMatData* u) const override {
    if (!u) return;
    CV_Assert(u->urefcount == 0);
    CV_Assert(u->refcount == 0);
    if (!(u->flags & cv::UMatData::USER_ALLOCATED)) {
      if (u->userdata == &kCachedTag) Give(u->origdata, u->size);
      else cv::fastFree(u->origdata);
    }
    delete u;
  }

  size_t Release() const {
    std::vector<void*> blocks;
    size_t bytes;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [size, list] : free_) blocks.insert(blocks.end(), list.begin(), list.end());
      free_.clear();
      bytes = held_;
      held_ = 0;
    }
    for (void* block : blocks) cv::fastFree(block);
    return bytes;
  }

  size_t Held() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_;
  }

 private:
  uchar* Take(size_t bytes) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* block = it->second.back();  // the last freed: the likeliest still in the CPU's caches
        it->second.pop_back();
        held_ -= bytes;
        return static_cast<uchar*>(block);
      }
    }
    return static_cast<uchar*>(cv::fastMalloc(bytes));
  }

  void Give(void* block, size_t bytes) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (held_ + bytes <= kMaxCachedBytes) {
        free_[bytes].push_back(block);
        held_ += bytes;
        return;
      }
    }
    cv::fastFree(block);
  }

  mutable std::mutex mutex_;
  mutable std::map<size_t, std::vector<void*>> free_;  // by exact size: each image asks for the same sizes again
  mutable size_t held_ = 0;
};

// Never destroyed: Mats may outlive any static destructor order.
MatCache& Cache() {
  static MatCache* cache = new MatCache();
  return *cache;
}

}  // namespace

void InstallMatCache() {
  static std::once_flag once;
  std::call_once(once, [] {
    // FRAMESIFT_MAT_CACHE=off keeps OpenCV's own allocator (to measure the cache, or rule it out).
    const char* setting = std::getenv("FRAMESIFT_MAT_CACHE");
    if (setting && std::strcmp(setting, "off") == 0) return;
    cv::Mat::setDefaultAllocator(&Cache());
  });
}

MatCacheScope::MatCacheScope() { ++scopes; }
MatCacheScope::~MatCacheScope() { --scopes; }

size_t ReleaseMatCache() { return Cache().Release(); }

size_t MatCacheBytes() { return Cache().Held(); }

}  // namespace framesift
