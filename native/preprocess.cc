#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "errors.h"

namespace framesift {

namespace {
constexpr double kMean[3] = {0.485, 0.456, 0.406};
constexpr double kStd[3] = {0.229, 0.224, 0.225};
}  // namespace

void PreprocessToNchw(const uint8_t* data, int width, int height, int stride, int channels,
                      const PreprocessTarget& target, void* out) {
  if (target.width < 1 || target.height < 1) Fail(ErrorCode::InvalidArg, "Expected a positive target size");
  if (channels != 1 && channels != 3) Fail(ErrorCode::InvalidArg, "Expected 1 or 3 channels");
  cv::Mat src(height, width, channels == 3 ? CV_8UC3 : CV_8UC1, const_cast<uint8_t*>(data),
              static_cast<size_t>(stride));
  cv::Rect roi(0, 0, width, height);
  if (target.aspect == PreprocessAspect::Crop) {
    // Cover the target, keep the centre.
    const double s = std::max(static_cast<double>(target.width) / width, static_cast<double>(target.height) / height);
    const int cw = std::clamp(static_cast<int>(std::lround(target.width / s)), 1, width);
    const int ch = std::clamp(static_cast<int>(std::lround(target.height / s)), 1, height);
    roi = cv::Rect((width - cw) / 2, (height - ch) / 2, cw, ch);
  }
  const cv::Size size(target.width, target.height);
  const bool shrinking = roi.width >= target.width && roi.height >= target.height;
  cv::Mat resized;
  if (roi.size() == size) {
    resized = src(roi);
  } else if (shrinking) {
    // Like libvips' shrink + reduce: an integer-factor box average first (OpenCV's fast
    // INTER_AREA path, exact integer scales), then INTER_AREA over the small remainder
    // (factor < 2). Up to factor-1 edge pixels are dropped to make the scale exact.
    const int fx = roi.width / target.width;
    const int fy = roi.height / target.height;
    cv::Mat reduced = src(roi);
    if (fx >= 2 || fy >= 2) {
      const int w1 = roi.width / fx;
      const int h1 = roi.height / fy;
      const cv::Rect exact(roi.x + (roi.width - w1 * fx) / 2, roi.y + (roi.height - h1 * fy) / 2, w1 * fx, h1 * fy);
      cv::resize(src(exact), reduced, cv::Size(w1, h1), 0, 0, cv::INTER_AREA);
    }
    if (reduced.size() == size) {
      resized = reduced;
    } else {
      cv::resize(reduced, resized, size, 0, 0, cv::INTER_AREA);
    }
  } else {
    cv::resize(src(roi), resized, size, 0, 0, cv::INTER_LINEAR);
  }
  cv::Mat planes8[3];
  if (channels == 3) {
    cv::split(resized, planes8);
  } else {
    planes8[0] = planes8[1] = planes8[2] = resized;
  }
  const size_t plane = static_cast<size_t>(target.width) * target.height;
  cv::Mat scratch;
  for (int c = 0; c < 3; c++) {
    const double scale = 1.0 / (255.0 * kStd[c]);
    const double bias = -kMean[c] / kStd[c];
    if (target.half) {
      planes8[c].convertTo(scratch, CV_32F, scale, bias);
      cv::Mat dst(size, CV_16F, static_cast<uint16_t*>(out) + c * plane);
      scratch.convertTo(dst, CV_16F);
    } else {
      cv::Mat dst(size, CV_32F, static_cast<float*>(out) + c * plane);
      planes8[c].convertTo(dst, CV_32F, scale, bias);
    }
  }
}

}  // namespace framesift
