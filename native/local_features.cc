#include "local_features.h"

#include <algorithm>
#include <cmath>

#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "errors.h"

namespace framesift {
namespace {

// RootSIFT (Arandjelovic & Zisserman 2012): Hellinger kernel via L1 normalisation and a
// square root; re-quantised to 8 bits (components are in [0, 1], x 255).
void ToRootSift(cv::Mat& descriptors) {
  for (int r = 0; r < descriptors.rows; ++r) {
    uint8_t* row = descriptors.ptr<uint8_t>(r);
    double sum = 0;
    for (int c = 0; c < descriptors.cols; ++c) sum += row[c];
    if (sum <= 0) continue;
    for (int c = 0; c < descriptors.cols; ++c)
      row[c] = static_cast<uint8_t>(std::lround(std::sqrt(row[c] / sum) * 255.0));
  }
}

}  // namespace

FeatureData ExtractFeatures(const uint8_t* data, int width, int height, int stride, const FeatureOptions& options) {
  FeatureData out;
  out.kind = options.kind;
  out.rootSift = options.kind == FeatureKind::Sift && options.rootSift;
  out.width = width;
  out.height = height;
  if (data == nullptr || width <= 0 || height <= 0) return out;
  if (!(options.downscale > 0 && options.downscale <= 1)) Fail(ErrorCode::InvalidArg, "downscale must be in (0, 1]");

  cv::Mat input(height, width, CV_8UC1, const_cast<uint8_t*>(data), static_cast<size_t>(stride));
  cv::Mat image = input;
  double factor = options.downscale;
  if (factor < 1) {
    int w = std::max(1, static_cast<int>(std::lround(width * factor)));
    int h = std::max(1, static_cast<int>(std::lround(height * factor)));
    cv::resize(input, image, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  }
  // Too small for any detector window: nothing to find.
  if (image.cols < 16 || image.rows < 16) return out;

  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  if (options.kind == FeatureKind::Sift) {
    auto sift = cv::SIFT::create(options.maxFeatures, 3, options.contrastThreshold, 10, 1.6, CV_8U);
    sift->detectAndCompute(image, cv::noArray(), keypoints, descriptors);
  } else {
    auto orb = cv::ORB::create(options.maxFeatures > 0 ? options.maxFeatures : 5000);
    orb->detectAndCompute(image, cv::noArray(), keypoints, descriptors);
  }
  if (keypoints.empty() || descriptors.empty()) return out;
  // OpenCV's cap keeps every keypoint tied with the last one: make it a hard cap, strongest first.
  if (options.maxFeatures > 0 && keypoints.size() > static_cast<size_t>(options.maxFeatures)) {
    std::vector<int> order(keypoints.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return keypoints[a].response > keypoints[b].response; });
    order.resize(options.maxFeatures);
    std::sort(order.begin(), order.end());  // keep OpenCV's order among the survivors
    std::vector<cv::KeyPoint> kept(order.size());
    cv::Mat keptDescriptors(static_cast<int>(order.size()), descriptors.cols, descriptors.type());
    for (size_t k = 0; k < order.size(); ++k) {
      kept[k] = keypoints[order[k]];
      descriptors.row(order[k]).copyTo(keptDescriptors.row(static_cast<int>(k)));
    }
    keypoints.swap(kept);
    descriptors = keptDescriptors;
  }
  if (out.rootSift) ToRootSift(descriptors);

  // Keypoint centres in the resized image map back to input pixels through pixel centres.
  double inv = 1.0 / factor;
  double sx = static_cast<double>(width) / image.cols, sy = static_cast<double>(height) / image.rows;
  if (factor == 1) sx = sy = 1;
  out.xy.resize(keypoints.size() * 2);
  out.scale.resize(keypoints.size());
  out.angle.resize(keypoints.size());
  for (size_t k = 0; k < keypoints.size(); ++k) {
    out.xy[2 * k] = static_cast<float>((keypoints[k].pt.x + 0.5) * sx - 0.5);
    out.xy[2 * k + 1] = static_cast<float>((keypoints[k].pt.y + 0.5) * sy - 0.5);
    out.scale[k] = static_cast<float>(keypoints[k].size * inv);
    out.angle[k] = keypoints[k].angle;
  }
  out.descriptors = descriptors;
  return out;
}

}  // namespace framesift
