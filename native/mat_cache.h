// A cv::Mat allocator that keeps large freed blocks for the next Mat of the same size. SIFT
// allocates its scale space afresh for every image (at 960 px, ~125 MB in 8 MB levels per
// thread); glibc gives such blocks back to the kernel when they are freed (a thread arena's
// heaps are deleted once empty), and the next image faulted them in again: a quarter of the
// describe stage's CPU went to page faults on the 60 s 1080p clip at high_quality. Plain C++.
#pragma once
#include <cstddef>

namespace framesift {

// Makes the cache OpenCV's default Mat allocator, once per process (Mats made before keep
// theirs: each Mat frees through the allocator that made it). It caches only blocks allocated
// on a thread inside a MatCacheScope; every other Mat is allocated as OpenCV would.
void InstallMatCache();

// While one lives on a thread, that thread's large Mats come from and go back to the cache
// (the addon fixes OpenCV's own pool at one thread, so SIFT makes its Mats on the caller's).
// Around feature extraction only: pass 1's metrics ran 1-2% slower with their temporaries cached.
class MatCacheScope {
 public:
  MatCacheScope();
  ~MatCacheScope();
  MatCacheScope(const MatCacheScope&) = delete;
  MatCacheScope& operator=(const MatCacheScope&) = delete;
};

// Frees every block the cache holds (between stages: the next stage's sizes differ). Returns
// the bytes freed.
size_t ReleaseMatCache();

// Bytes the cache holds now (free blocks only: none of them is in use).
size_t MatCacheBytes();

}  // namespace framesift
