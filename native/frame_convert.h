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

namespace framesift {

class FrameConverter {
 public:
  FrameConverter() = default;
  FrameConverter(const FrameConverter&) = delete;
  FrameConverter& operator=(const FrameConverter&) = delete;
  ~FrameConverter();

  // Sizes the frame's outputs (after rotation, clockwise degrees 0/90/180/270), asks `target`
  // for memory and converts into it.
  OutputSizes Deliver(const AVFrame* frame, int rotation, const DecoderOptions& options, const TargetProvider& target);

 private:
  void ConvertPlane(const AVFrame* frame, SwsContext** ctx, AVPixelFormat format, int channels, int rotation,
                    int outWidth, int outHeight, uint8_t* dst);
  SwsContext* gray_ = nullptr;
  SwsContext* rgb_ = nullptr;
  std::vector<uint8_t> scratch_;
};

// libav's "Orientation" EXIF tag (1..8) as a clockwise rotation; mirrored tags map to the
// nearest rotation (mirroring is rare in camera output and harmless for SfM frame choice).
int ExifOrientationToRotation(int orientation);

}  // namespace framesift
