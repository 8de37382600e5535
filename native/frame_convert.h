// Converts decoded AVFrames to the analysis image: scale (area filter) to the output size as
// gray8 and/or RGB24, then apply the display rotation. Reuses its scaler contexts and scratch
// memory, so the steady state allocates nothing.
#pragma once
extern "C" {
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}
#include <vector>

#include "decoder.h"
#include "plane_layout.h"

namespace framesift {

class FrameConverter {
 public:
  FrameConverter() = default;
  FrameConverter(const FrameConverter&) = delete;
  FrameConverter& operator=(const FrameConverter&) = delete;
  ~FrameConverter();

  // Sizes the frame's outputs (after rotation, clockwise degrees 0/90/180/270), asks `target`
  // for memory and converts into it.
  // With options.rgbDeferred the RGB target receives the decoded planes instead (sizes.planes
  // says how they lie, from AlignedStart of the target), for ConvertRgb later.
  OutputSizes Deliver(const AVFrame* frame, int rotation, const DecoderOptions& options, const TargetProvider& target);

  // The full-resolution RGB24 of planes a deferred Deliver (or a FrameSpill) holds, from
  // `planes` = their aligned start: the same conversion Deliver makes, pixel for pixel.
  void ConvertRgb(const PlaneLayout& layout, const uint8_t* planes, uint8_t* dst);
  // The gray8 analysis image (width x height after rotation) of such planes: the same
  // conversion Deliver makes for the gray output, pixel for pixel.
  void ConvertGray(const PlaneLayout& layout, const uint8_t* planes, int width, int height, uint8_t* dst);

 private:
  void ConvertPlane(const uint8_t* const data[4], const int linesize[4], int width, int height, int sourceFormat,
                    SwsContext** ctx, AVPixelFormat format, int channels, int rotation, int outWidth, int outHeight,
                    uint8_t* dst);
  SwsContext* gray_ = nullptr;
  SwsContext* rgb_ = nullptr;
  std::vector<uint8_t> scratch_;
};

// libav's "Orientation" EXIF tag (1..8) as a clockwise rotation; mirrored tags map to the
// nearest rotation (mirroring is rare in camera output and harmless for SfM frame choice).
int ExifOrientationToRotation(int orientation);

// Where a frame's planes go in a deferred slot (positive strides as decoded, each plane at a
// multiple of PlaneLayout::kAlign); throws Unsupported for a frame it cannot lay out.
PlaneLayout LayoutOf(const AVFrame* frame, int rotation);

}  // namespace framesift
