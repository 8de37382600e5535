#include "frame_convert.h"

#include <opencv2/core.hpp>

#include "errors.h"
#include "frame_pool.h"

namespace framesift {

FrameConverter::~FrameConverter() {
  sws_freeContext(gray_);
  sws_freeContext(rgb_);
}

OutputSizes FrameConverter::Deliver(const AVFrame* frame, int rotation, const DecoderOptions& options,
                                   const TargetProvider& target) {
  const bool quarter = rotation == 90 || rotation == 270;
  const int width = quarter ? frame->height : frame->width;
  const int height = quarter ? frame->width : frame->height;
  OutputSizes sizes;
  AnalysisSize(width, height, options.analysisSize, &sizes.width, &sizes.height);
  sizes.rgbWidth = options.rgbFullResolution ? width : sizes.width;
  sizes.rgbHeight = options.rgbFullResolution ? height : sizes.height;
  FrameTarget dst = target(sizes);
  if (dst.gray) ConvertPlane(frame, &gray_, AV_PIX_FMT_GRAY8, 1, rotation, sizes.width, sizes.height, dst.gray);
  if (dst.rgb) ConvertPlane(frame, &rgb_, AV_PIX_FMT_RGB24, 3, rotation, sizes.rgbWidth, sizes.rgbHeight, dst.rgb);
  return sizes;
}

void FrameConverter::ConvertPlane(const AVFrame* frame, SwsContext** ctx, AVPixelFormat format, int channels,
                                  int rotation, int outWidth, int outHeight, uint8_t* dst) {
  const bool quarterTurn = rotation == 90 || rotation == 270;
  const int scaledWidth = quarterTurn ? outHeight : outWidth;
  const int scaledHeight = quarterTurn ? outWidth : outHeight;
  // Area averaging is the right filter for downscaling (no aliasing into the sharpness
  // metrics); at the same size swscale takes its unscaled fast path whatever the flag.
  *ctx = sws_getCachedContext(*ctx, frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
                              scaledWidth, scaledHeight, format, SWS_AREA, nullptr, nullptr, nullptr);
  if (*ctx == nullptr) Fail(ErrorCode::Unsupported, "cannot convert this pixel format to the analysis image");
  const int rowBytes = scaledWidth * channels;
  uint8_t* out = dst;
  if (rotation != 0) {
    scratch_.resize(static_cast<size_t>(rowBytes) * scaledHeight + PixelBlock::kTail);
    out = scratch_.data();
  }
  uint8_t* planes[4] = {out, nullptr, nullptr, nullptr};
  int strides[4] = {rowBytes, 0, 0, 0};
  sws_scale(*ctx, frame->data, frame->linesize, 0, frame->height, planes, strides);
  if (rotation == 0) return;
  const int type = channels == 1 ? CV_8UC1 : CV_8UC3;
  cv::Mat src(scaledHeight, scaledWidth, type, out, rowBytes);
  cv::Mat rotated(outHeight, outWidth, type, dst, static_cast<size_t>(outWidth) * channels);
  const int code = rotation == 90 ? cv::ROTATE_90_CLOCKWISE
                   : rotation == 180 ? cv::ROTATE_180
                                     : cv::ROTATE_90_COUNTERCLOCKWISE;
  cv::rotate(src, rotated, code);  // writes into dst: the Mat header wraps it, sizes match
}

int ExifOrientationToRotation(int orientation) {
  switch (orientation) {
    case 3: case 4: return 180;
    case 6: case 5: return 90;
    case 8: case 7: return 270;
    default: return 0;
  }
}

}  // namespace framesift
