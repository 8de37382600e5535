// Zeroed bytes whose start and whole allocation lie on page boundaries. Direct file I/O
// (O_DIRECT) reads and writes such memory as it is, so a frame's planes go to the spill and
// back without a staging copy and without passing through the page cache (native/frame_spill.cc).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace framesift {

class PageBytes {
 public:
  static constexpr size_t kPage = 4096;
  static constexpr size_t RoundUp(size_t n) { return (n + kPage - 1) & ~(kPage - 1); }

  PageBytes() = default;
  explicit PageBytes(size_t n) { Allocate(n); }
  ~PageBytes() { std::free(data_); }
  PageBytes(const PageBytes&) = delete;
  PageBytes& operator=(const PageBytes&) = delete;
  PageBytes(PageBytes&& other) noexcept { *this = std::move(other); }
  PageBytes& operator=(PageBytes&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    return *this;
  }

  // At least n bytes, zeroed when newly allocated; what was there before is not kept.
  void Reserve(size_t n) {
    if (n <= capacity_) {
      size_ = n;
      return;
    }
    std::free(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
    Allocate(n);
  }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes from data() that may be read and written: size() rounded up to a whole page.
  size_t capacity() const { return capacity_; }

 private:
  void Allocate(size_t n) {
    const size_t rounded = RoundUp(n > 0 ? n : 1);
    data_ = static_cast<uint8_t*>(std::aligned_alloc(kPage, rounded));
    if (data_ == nullptr) throw std::bad_alloc();
    std::memset(data_, 0, rounded);
    size_ = n;
    capacity_ = rounded;
  }
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace framesift
