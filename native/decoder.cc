#include "decoder.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace framesift {

std::unique_ptr<FrameSource> OpenVideoSource(const DecoderOptions& options);
std::unique_ptr<FrameSource> OpenImageSequence(const DecoderOptions& options);

std::unique_ptr<FrameSource> OpenFrameSource(const DecoderOptions& options) {
  return options.files.empty() ? OpenVideoSource(options) : OpenImageSequence(options);
}

double FocalLengthTag(const char* value) {
  if (value == nullptr) return 0;
  char* end = nullptr;
  double v = std::strtod(value, &end);
  if (end == value) return 0;
  // libav prints EXIF rationals as "a:b"; QuickTime tags hold a plain decimal.
  if (*end == '/' || *end == ':') {
    const char* rest = end + 1;
    const double d = std::strtod(rest, &end);
    if (end == rest || !(d > 0)) return 0;
    v /= d;
  }
  return std::isfinite(v) && v > 0 && v < 10000 ? v : 0;
}

void AnalysisSize(int width, int height, int longestSide, int* outWidth, int* outHeight) {
  const int longest = std::max(width, height);
  if (longestSide <= 0 || longest <= longestSide) {  // never upscale
    *outWidth = width;
    *outHeight = height;
    return;
  }
  const double scale = static_cast<double>(longestSide) / longest;
  // Even sizes keep chroma-subsampled sources aligned; at least 2 px on each side.
  auto scaled = [scale](int v) { return std::max(2, static_cast<int>(std::lround(v * scale / 2.0)) * 2); };
  *outWidth = width >= height ? longestSide : scaled(width);
  *outHeight = height > width ? longestSide : scaled(height);
}

void SetProbeSizes(ProbeInfo& probe, int width, int height, int rotation, const DecoderOptions& options) {
  probe.width = width;
  probe.height = height;
  probe.rotation = rotation;
  const bool quarter = rotation == 90 || rotation == 270;
  probe.displayWidth = quarter ? height : width;
  probe.displayHeight = quarter ? width : height;
  const bool turned = options.applyRotation && quarter;
  AnalysisSize(turned ? height : width, turned ? width : height, options.analysisSize, &probe.outputWidth, &probe.outputHeight);
}

void SetProbePixelFormat(ProbeInfo& probe, int format) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(format));
  probe.pixelFormat = desc ? desc->name : "unknown";
  probe.bitDepth = desc ? desc->comp[0].depth : 8;
}

}  // namespace framesift
