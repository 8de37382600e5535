#include "frame_spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "errors.h"

namespace framesift {
namespace {

// A record's picture size after its rotation (what the converter writes).
void DisplaySize(const PlaneLayout& l, int* width, int* height) {
  const bool quarter = l.rotation == 90 || l.rotation == 270;
  *width = quarter ? l.height : l.width;
  *height = quarter ? l.width : l.height;
}

}  // namespace

FrameSpill::FrameSpill(const std::string& path, bool direct) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) Fail(ErrorCode::Output, "Could not create the frame spill " + path + ": " + std::strerror(errno));
  // The bytes live as long as the descriptor: nothing is left behind by a crash or an abort.
  ::unlink(path.c_str());
  // Asked for once the file exists: a file system without direct I/O refuses the flag here
  // (EINVAL) and the file stays buffered, where open(O_DIRECT) could leave it created.
  if (direct) {
    const int flags = ::fcntl(fd_, F_GETFL);
    direct_ = flags >= 0 && ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
  }
}

FrameSpill::~FrameSpill() {
  if (fd_ < 0) return;
  // The last close of the unlinked file frees its page cache (~0.25 s for the 1.1 GB of 360
  // kept 1080p frames): on a thread of its own, not the caller's (the JS thread, which the
  // pipeline needs next).
  const int fd = fd_;
  try {
    std::thread([fd] { ::close(fd); }).detach();
  } catch (const std::system_error&) {
    ::close(fd);
  }
}

int FrameSpill::Append(const PlaneLayout& layout, const uint8_t* planes, size_t readable) {
  if (layout.format < 0 || layout.bytes == 0) Fail(ErrorCode::InvalidArg, "Expected a frame decoded with rgbDeferred for the frame spill");
  if (readable < layout.bytes) Fail(ErrorCode::InvalidArg, "Expected " + std::to_string(layout.bytes) + " readable bytes of planes for the frame spill but received " + std::to_string(readable));
  // Every record starts on a page: direct I/O needs aligned offsets, and buffered I/O loses nothing.
  const size_t stored = PageBytes::RoundUp(layout.bytes);
  int64_t at;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    at = end_;
    end_ += static_cast<int64_t>(stored);
  }
  // Direct I/O moves whole pages from page-aligned memory (the decoder's slot, or a staged
  // copy); buffered I/O just the bytes, from anywhere.
  const bool direct = direct_;
  const bool wholePages = reinterpret_cast<uintptr_t>(planes) % PageBytes::kPage == 0 && readable >= stored;
  std::unique_ptr<Reader> staging;
  if (direct && !wholePages) {
    staging = Idle();
    staging->planes.Reserve(stored);
    std::memcpy(staging->planes.data(), planes, layout.bytes);
    planes = staging->planes.data();
  }
  Transfer(layout.bytes, direct ? stored : layout.bytes, "write", std::strerror(ENOSPC), [&](size_t done, size_t want) {
    return ::pwrite(fd_, planes + done, want - done, at + static_cast<int64_t>(done));
  });
  if (staging) Release(std::move(staging));
  std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(Record{layout, at});
  return static_cast<int>(records_.size()) - 1;
}

bool FrameSpill::DropDirect() {
  std::lock_guard<std::mutex> lock(mutex_);
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) return false;
  direct_ = false;
  return true;
}

template <typename Io>
void FrameSpill::Transfer(size_t bytes, size_t want, const char* verb, const char* stopped, Io io) {
  bool refused = false;
  size_t done = 0;
  while (done < bytes) {
    ssize_t n = io(done, want);
    if (n < 0 && errno == EINTR) continue;
    // A file system that took the flag but refuses the transfer: buffered from here on.
    if (n < 0 && errno == EINVAL && !refused && DropDirect()) {
      refused = true;
      want = bytes;
      continue;
    }
    if (n <= 0) Fail(ErrorCode::Output, std::string("Could not ") + verb + " the frame spill " + path_ + ": " + (n < 0 ? std::strerror(errno) : stopped));
    done += static_cast<size_t>(n);
  }
}

FrameSpill::Record FrameSpill::Find(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id < 0 || id >= static_cast<int>(records_.size()))
    Fail(ErrorCode::InvalidArg, "Expected a frame spill record id from 0 to " + std::to_string(records_.size()) + " but received " + std::to_string(id));
  return records_[static_cast<size_t>(id)];
}

size_t FrameSpill::RgbBytes(int id, int* width, int* height) {
  const PlaneLayout l = Find(id).layout;
  int w = 0, h = 0;
  DisplaySize(l, &w, &h);
  if (width) *width = w;
  if (height) *height = h;
  return static_cast<size_t>(l.width) * l.height * 3;
}

int64_t FrameSpill::FileBytes() {
  std::lock_guard<std::mutex> lock(mutex_);
  return end_;
}

std::unique_ptr<FrameSpill::Reader> FrameSpill::Idle() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_.back());
      idle_.pop_back();
      return reader;
    }
  }
  return std::make_unique<Reader>();
}

std::unique_ptr<FrameSpill::Reader> FrameSpill::Load(const Record& record) {
  std::unique_ptr<Reader> reader = Idle();
  const PlaneLayout& l = record.layout;
  // Page-aligned, so AlignedStart() of it is its start: the planes lie as they did in the slot.
  const size_t stored = PageBytes::RoundUp(l.bytes);
  reader->planes.Reserve(stored);
  uint8_t* to = reader->planes.data();
  // A direct read of the last record may stop short at the end of the file, past its bytes.
  Transfer(l.bytes, direct_ ? stored : l.bytes, "read", "short file", [&](size_t done, size_t want) {
    return ::pread(fd_, to + done, want - done, record.offset + static_cast<int64_t>(done));
  });
  return reader;
}

void FrameSpill::Release(std::unique_ptr<Reader> reader) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(reader));
}

void FrameSpill::ReadRgb(int id, uint8_t* dst) {
  const Record record = Find(id);
  std::unique_ptr<Reader> reader = Load(record);
  reader->converter.ConvertRgb(record.layout, AlignedStart(reader->planes.data()), dst);
  Release(std::move(reader));
}

void FrameSpill::ReadGray(int id, int width, int height, uint8_t* dst) {
  const Record record = Find(id);
  int fullWidth = 0, fullHeight = 0;
  DisplaySize(record.layout, &fullWidth, &fullHeight);
  // The analysis image is a downscale (or the frame's own size): never larger.
  if (width <= 0 || height <= 0 || width > fullWidth || height > fullHeight)
    Fail(ErrorCode::InvalidArg, "Expected a gray size from 1x1 to " + std::to_string(fullWidth) + "x" + std::to_string(fullHeight) +
                                    " for readGray but received " + std::to_string(width) + "x" + std::to_string(height));
  std::unique_ptr<Reader> reader = Load(record);
  reader->converter.ConvertGray(record.layout, AlignedStart(reader->planes.data()), width, height, dst);
  Release(std::move(reader));
}

}  // namespace framesift
