#include "frame_convert.h"

extern "C" {
#include <libavutil/imgutils.h>
}
#include <opencv2/core.hpp>

#include <cstring>

#include "errors.h"
#include "frame_pool.h"

namespace framesift {
namespace {

// Rows of a plane: chroma planes are subsampled vertically by the format.
size_t PlaneRows(const PlaneLayout& layout, int plane) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(layout.format));
  const bool chroma = (plane == 1 || plane == 2) && desc != nullptr;
  return static_cast<size_t>(chroma ? AV_CEIL_RSHIFT(layout.height, desc->log2_chroma_h) : layout.height);
}

}  // namespace

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
  const bool deferred = options.rgb && options.rgbDeferred;
  if (deferred) sizes.planes = LayoutOf(frame, rotation);
  FrameTarget dst = target(sizes);
  if (dst.gray) ConvertPlane(frame->data, frame->linesize, frame->width, frame->height, frame->format, &gray_,
                             AV_PIX_FMT_GRAY8, 1, rotation, sizes.width, sizes.height, dst.gray);
  if (dst.rgb && deferred) {
    // A copy of the planes (half the bytes of the RGB at 4:2:0, no arithmetic): the RGB is
    // made only for the frames that are kept (ConvertRgb).
    uint8_t* base = AlignedStart(dst.rgb);
    const PlaneLayout& l = sizes.planes;
    for (int i = 0; i < 4 && frame->data[i]; ++i)
      std::memcpy(base + l.offset[i], frame->data[i], static_cast<size_t>(l.linesize[i]) * PlaneRows(l, i));
  } else if (dst.rgb) {
    ConvertPlane(frame->data, frame->linesize, frame->width, frame->height, frame->format, &rgb_, AV_PIX_FMT_RGB24, 3,
                 rotation, sizes.rgbWidth, sizes.rgbHeight, dst.rgb);
  }
  return sizes;
}

namespace {
void PlanePointers(const PlaneLayout& layout, const uint8_t* planes, const uint8_t* data[4]) {
  for (int i = 0; i < 4; ++i) data[i] = layout.linesize[i] > 0 ? planes + layout.offset[i] : nullptr;
}
}  // namespace

void FrameConverter::ConvertRgb(const PlaneLayout& layout, const uint8_t* planes, uint8_t* dst) {
  const uint8_t* data[4];
  PlanePointers(layout, planes, data);
  const bool quarter = layout.rotation == 90 || layout.rotation == 270;
  ConvertPlane(data, layout.linesize, layout.width, layout.height, layout.format, &rgb_, AV_PIX_FMT_RGB24, 3,
               layout.rotation, quarter ? layout.height : layout.width, quarter ? layout.width : layout.height, dst);
}

void FrameConverter::ConvertGray(const PlaneLayout& layout, const uint8_t* planes, int width, int height, uint8_t* dst) {
  const uint8_t* data[4];
  PlanePointers(layout, planes, data);
  ConvertPlane(data, layout.linesize, layout.width, layout.height, layout.format, &gray_, AV_PIX_FMT_GRAY8, 1,
               layout.rotation, width, height, dst);
}

void FrameConverter::ConvertPlane(const uint8_t* const data[4], const int linesize[4], int width, int height,
                                  int sourceFormat, SwsContext** ctx, AVPixelFormat format, int channels,
                                  int rotation, int outWidth, int outHeight, uint8_t* dst) {
  const bool quarterTurn = rotation == 90 || rotation == 270;
  const int scaledWidth = quarterTurn ? outHeight : outWidth;
  const int scaledHeight = quarterTurn ? outWidth : outHeight;
  // Area averaging is the right filter for downscaling (no aliasing into the sharpness
  // metrics); at the same size swscale takes its unscaled fast path whatever the flag.
  *ctx = sws_getCachedContext(*ctx, width, height, static_cast<AVPixelFormat>(sourceFormat),
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
  sws_scale(*ctx, data, linesize, 0, height, planes, strides);
  if (rotation == 0) return;
  const int type = channels == 1 ? CV_8UC1 : CV_8UC3;
  cv::Mat src(scaledHeight, scaledWidth, type, out, rowBytes);
  cv::Mat rotated(outHeight, outWidth, type, dst, static_cast<size_t>(outWidth) * channels);
  const int code = rotation == 90 ? cv::ROTATE_90_CLOCKWISE
                   : rotation == 180 ? cv::ROTATE_180
                                     : cv::ROTATE_90_COUNTERCLOCKWISE;
  cv::rotate(src, rotated, code);  // writes into dst: the Mat header wraps it, sizes match
}

PlaneLayout LayoutOf(const AVFrame* frame, int rotation) {
  PlaneLayout l;
  l.format = frame->format;
  l.width = frame->width;
  l.height = frame->height;
  l.rotation = rotation;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame->format));
  if (desc == nullptr || (desc->flags & AV_PIX_FMT_FLAG_HWACCEL) || (desc->flags & AV_PIX_FMT_FLAG_PAL))
    Fail(ErrorCode::Unsupported, "cannot hold this pixel format's planes for a deferred RGB conversion");
  size_t at = 0;
  for (int i = 0; i < 4 && frame->data[i]; ++i) {
    if (frame->linesize[i] <= 0) Fail(ErrorCode::Unsupported, "cannot hold planes with negative strides");
    l.linesize[i] = frame->linesize[i];
    l.offset[i] = at;
    at += static_cast<size_t>(l.linesize[i]) * PlaneRows(l, i);
    at = (at + PlaneLayout::kAlign - 1) & ~(PlaneLayout::kAlign - 1);
  }
  l.bytes = at;
  return l;
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
