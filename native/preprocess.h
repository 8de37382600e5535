// Frame -> model input: resize (OpenCV INTER_AREA when shrinking, INTER_LINEAR when growing),
// ImageNet mean/std, NCHW planes written straight into the caller's tensor buffer as float32
// or float16. Plain C++ over (pointer, width, height, stride): no N-API here.
#pragma once
#include <cstdint>

namespace framesift {

enum class PreprocessAspect { Stretch = 0, Crop = 1 };

struct PreprocessTarget {
  int width = 0;
  int height = 0;
  PreprocessAspect aspect = PreprocessAspect::Stretch;
  bool half = false;  // write IEEE binary16 instead of float32
};

// `out` points at the frame's first element (3 * width * height elements of float or
// uint16 binary16). `channels` is 1 (gray, replicated to RGB) or 3 (RGB24).
void PreprocessToNchw(const uint8_t* data, int width, int height, int stride, int channels,
                      const PreprocessTarget& target, void* out);

}  // namespace framesift
