// A scratch file of decoded planes (libav's own format, ~1.5 bytes a pixel at 4:2:0): the
// frames a one-pass run keeps wait here, out of memory, until the candidate stage says which
// of them it needs; only those are converted to RGB (the same conversion the decoder makes)
// and encoded. The file is unlinked as soon as it is created, so it goes with the object (or
// the process) whatever happens. Plain C++: no N-API.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "frame_convert.h"
#include "plane_layout.h"

namespace framesift {

class FrameSpill {
 public:
  // Creates `path` (it must not exist) and unlinks it at once. Throws Error(Output).
  explicit FrameSpill(const std::string& path);
  ~FrameSpill();
  FrameSpill(const FrameSpill&) = delete;
  FrameSpill& operator=(const FrameSpill&) = delete;

  // Any thread: appends the planes lying as `layout` says from `planes` (their aligned start);
  // returns the record's id. Throws Error(Output) when the write fails (e.g. a full disk).
  int Append(const PlaneLayout& layout, const uint8_t* planes);
  // Any thread: the record's RGB24 at full resolution, rotated, into `dst` (RgbBytes(id) bytes).
  void ReadRgb(int id, uint8_t* dst);
  // Any thread: the record's gray8 analysis image, width x height after rotation (as the decoder
  // delivered it with these planes), into `dst` (width * height bytes + PixelBlock::kTail).
  void ReadGray(int id, int width, int height, uint8_t* dst);
  // RGB24 bytes of a record, and its size after rotation; throws InvalidArg for an unknown id.
  size_t RgbBytes(int id, int* width = nullptr, int* height = nullptr);
  int64_t FileBytes();

 private:
  struct Record {
    PlaneLayout layout;
    int64_t offset;
  };
  // A converter (its scaler cache) and the planes read back: one per concurrent ReadRgb.
  struct Reader {
    FrameConverter converter;
    std::vector<uint8_t> planes;
  };
  Record Find(int id);
  // A reader from the idle list (or a new one) holding the record's planes, at the alignment
  // they had in the decoder's slot; Release() puts it back.
  std::unique_ptr<Reader> Load(const Record& record);
  void Release(std::unique_ptr<Reader> reader);
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  int64_t end_ = 0;
  std::vector<Record> records_;
  std::vector<std::unique_ptr<Reader>> idle_;
};

}  // namespace framesift
