// A decoded picture's planes as bytes (libav's own pixel format and row strides): what a frame
// slot holds instead of its RGB when the RGB conversion is deferred (DecoderOptions::rgbDeferred),
// and what a FrameSpill stores. Converting them later gives the same RGB as converting at decode.
#pragma once
#include <cstddef>
#include <cstdint>

namespace framesift {

struct PlaneLayout {
  // Each plane starts at a multiple of this from the (equally aligned) start of the bytes, as
  // libav's own buffers do: the converter then sees the alignment it saw at decode time.
  static constexpr size_t kAlign = 64;
  int format = -1;  // AVPixelFormat; -1 = no planes
  int width = 0, height = 0;  // coded picture size (before rotation)
  int rotation = 0;           // clockwise degrees applied when converting
  int linesize[4] = {0, 0, 0, 0};
  size_t offset[4] = {0, 0, 0, 0};
  size_t bytes = 0;  // all planes, from the aligned start
};

// Start of the bytes of a layout inside a block: the first kAlign-aligned address.
inline uint8_t* AlignedStart(uint8_t* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<uint8_t*>((a + PlaneLayout::kAlign - 1) & ~(uintptr_t{PlaneLayout::kAlign} - 1));
}

}  // namespace framesift
