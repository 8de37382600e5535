// Shared by the fuzz targets and the native decoder tests: decodes every remaining frame of a
// source into scratch memory sized as the source asks (as the frame pool would).
#pragma once
#include <cstdint>
#include <vector>

#include "decoder.h"

namespace framesift {

inline int DrainFrames(FrameSource& source, bool rgb = true) {
  std::vector<uint8_t> gray, color;
  TargetProvider target = [&](const OutputSizes& s) {
    gray.resize(static_cast<size_t>(s.width) * s.height + 64);
    color.resize(static_cast<size_t>(s.rgbWidth) * s.rgbHeight * 3 + 64);
    return FrameTarget{gray.data(), rgb ? color.data() : nullptr};
  };
  FrameInfo info;
  int frames = 0;
  while (source.Next(target, info)) ++frames;
  return frames;
}

}  // namespace framesift
