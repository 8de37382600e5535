// A scratch file of decoded planes (libav's own format, ~1.5 bytes a pixel at 4:2:0): the
// frames a one-pass run keeps wait here, out of memory, until the candidate stage says which
// of them it needs; only those are converted to RGB (the same conversion the decoder makes)
// and encoded. The file is unlinked as soon as it is created, so it goes with the object (or
// the process) whatever happens. Where the file system allows, it is written and read with
// direct I/O (O_DIRECT): the planes go from the decoder's page-aligned slot to the disk without
// a copy into the page cache, which cost more CPU than the writes themselves (0.4-2 s of kernel
// time per GB on the development machine) and pushed the user's own cached files out.
// Plain C++: no N-API.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "frame_convert.h"
#include "page_bytes.h"
#include "plane_layout.h"

namespace framesift {

class FrameSpill {
 public:
  // Creates `path` (it must not exist) and unlinks it at once. Throws Error(Output). `direct`:
  // try direct I/O (buffered where the file system refuses it, or on the first write it refuses).
  explicit FrameSpill(const std::string& path, bool direct = true);
  ~FrameSpill();
  FrameSpill(const FrameSpill&) = delete;
  FrameSpill& operator=(const FrameSpill&) = delete;

  // Any thread: appends the planes lying as `layout` says from `planes` (their aligned start);
  // returns the record's id. `readable`: bytes that may be read from `planes` (at least
  // layout.bytes); page-aligned planes readable to the page past their end are written as they
  // are, others through a page-aligned copy. Throws Error(Output) when the write fails (e.g. a
  // full disk).
  int Append(const PlaneLayout& layout, const uint8_t* planes, size_t readable);
  // Any thread: the record's RGB24 at full resolution, rotated, into `dst` (RgbBytes(id) bytes).
  void ReadRgb(int id, uint8_t* dst);
  // Any thread: the record's gray8 analysis image, width x height after rotation (as the decoder
  // delivered it with these planes), into `dst` (width * height bytes + PixelBlock::kTail).
  void ReadGray(int id, int width, int height, uint8_t* dst);
  // RGB24 bytes of a record, and its size after rotation; throws InvalidArg for an unknown id.
  size_t RgbBytes(int id, int* width = nullptr, int* height = nullptr);
  int64_t FileBytes();
  // Whether the file is read and written with direct I/O (false once the file system refused it).
  bool Direct() const { return direct_.load(); }

 private:
  struct Record {
    PlaneLayout layout;
    int64_t offset;
  };
  // A converter (its scaler cache) and the planes read back (or staged for a write): one per
  // concurrent read or write.
  struct Reader {
    FrameConverter converter;
    PageBytes planes;
  };
  Record Find(int id);
  // A reader from the idle list (or a new one) holding the record's planes, at the alignment
  // they had in the decoder's slot; Release() puts it back.
  std::unique_ptr<Reader> Load(const Record& record);
  void Release(std::unique_ptr<Reader> reader);
  std::unique_ptr<Reader> Idle();
  // The pwrite / pread loop: `io(done, want)` moves bytes [done, want) until `bytes` are done
  // (`want` >= bytes: whole pages under direct I/O, just the bytes once it is refused);
  // `stopped` says why a transfer that moves 0 bytes failed.
  template <typename Io>
  void Transfer(size_t bytes, size_t want, const char* verb, const char* stopped, Io io);
  // Turns direct I/O off for good after the file system refused it (EINVAL).
  bool DropDirect();
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> direct_{false};
  std::mutex mutex_;
  int64_t end_ = 0;
  std::vector<Record> records_;
  std::vector<std::unique_ptr<Reader>> idle_;
};

}  // namespace framesift
