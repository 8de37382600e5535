#include "local_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "errors.h"
#include "mat_cache.h"

namespace framesift {
namespace {

// OpenCV's SIFT keypoints lie this far right and down of their place (FeatureOptions::unshift).
constexpr double kUpscaleShift = 0.25;

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

  // The scale space of every image is the size of the last one's: reuse its blocks.
  const MatCacheScope reuse;
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
  const double shift = options.kind == FeatureKind::Sift && options.unshift ? kUpscaleShift : 0.0;
  for (size_t k = 0; k < keypoints.size(); ++k) {
    out.xy[2 * k] = static_cast<float>((keypoints[k].pt.x - shift + 0.5) * sx - 0.5);
    out.xy[2 * k + 1] = static_cast<float>((keypoints[k].pt.y - shift + 0.5) * sy - 0.5);
    out.scale[k] = static_cast<float>(keypoints[k].size * inv);
    out.angle[k] = keypoints[k].angle;
  }
  out.descriptors = descriptors;
  return out;
}

namespace {
constexpr uint32_t kFeatureMagic = 0x53465346;  // "FSFS" read as little-endian u32
constexpr uint32_t kFeatureVersion = 1;
constexpr size_t kFeatureHeader = 32;

void PutU32(uint8_t* at, uint32_t v) { std::memcpy(at, &v, 4); }
uint32_t GetU32(const uint8_t* at) {
  uint32_t v;
  std::memcpy(&v, at, 4);
  return v;
}
}  // namespace

std::vector<uint8_t> SerializeFeatures(const FeatureData& data) {
  const uint32_t count = static_cast<uint32_t>(data.Count());
  const uint32_t cols = count > 0 ? static_cast<uint32_t>(data.descriptors.cols * data.descriptors.elemSize()) : 0;
  std::vector<uint8_t> out(kFeatureHeader + size_t{count} * (3 * sizeof(float) + cols));
  uint8_t* p = out.data();
  PutU32(p, kFeatureMagic);
  PutU32(p + 4, kFeatureVersion);
  PutU32(p + 8, static_cast<uint32_t>(data.kind));
  PutU32(p + 12, data.rootSift ? 1 : 0);
  PutU32(p + 16, static_cast<uint32_t>(data.width));
  PutU32(p + 20, static_cast<uint32_t>(data.height));
  PutU32(p + 24, count);
  PutU32(p + 28, cols);
  p += kFeatureHeader;
  std::memcpy(p, data.xy.data(), size_t{count} * 2 * sizeof(float));
  p += size_t{count} * 2 * sizeof(float);
  std::memcpy(p, data.scale.data(), size_t{count} * sizeof(float));
  p += size_t{count} * sizeof(float);
  for (uint32_t r = 0; r < count; ++r, p += cols) std::memcpy(p, data.descriptors.ptr<uint8_t>(static_cast<int>(r)), cols);
  return out;
}

FeatureData DeserializeFeatures(const uint8_t* bytes, size_t length) {
  if (length < kFeatureHeader || GetU32(bytes) != kFeatureMagic)
    Fail(ErrorCode::InvalidArg, "Expected saved features (FSFS bytes) but received something else");
  if (GetU32(bytes + 4) != kFeatureVersion)
    Fail(ErrorCode::InvalidArg, "Expected saved features of version 1 but received version " + std::to_string(GetU32(bytes + 4)));
  FeatureData out;
  const uint32_t kind = GetU32(bytes + 8);
  const uint32_t count = GetU32(bytes + 24);
  const uint32_t cols = GetU32(bytes + 28);
  if (kind > 1) Fail(ErrorCode::InvalidArg, "Expected a feature kind 0 (SIFT) or 1 (ORB) but received " + std::to_string(kind));
  out.kind = kind == 1 ? FeatureKind::Orb : FeatureKind::Sift;
  out.rootSift = GetU32(bytes + 12) != 0;
  out.width = static_cast<int>(GetU32(bytes + 16));
  out.height = static_cast<int>(GetU32(bytes + 20));
  const uint32_t expectedCols = out.kind == FeatureKind::Orb ? 32 : 128;
  if (out.width < 0 || out.height < 0 || out.width > 65536 || out.height > 65536 || count > (1u << 24) ||
      (count > 0 && cols != expectedCols))
    Fail(ErrorCode::InvalidArg, "Expected saved features with sane sizes but received a corrupt header");
  const size_t need = kFeatureHeader + size_t{count} * (3 * sizeof(float) + cols);
  if (length != need)
    Fail(ErrorCode::InvalidArg, "Expected " + std::to_string(need) + " bytes of saved features but received " + std::to_string(length));
  const uint8_t* p = bytes + kFeatureHeader;
  out.xy.resize(size_t{count} * 2);
  std::memcpy(out.xy.data(), p, out.xy.size() * sizeof(float));
  p += out.xy.size() * sizeof(float);
  out.scale.resize(count);
  std::memcpy(out.scale.data(), p, out.scale.size() * sizeof(float));
  p += out.scale.size() * sizeof(float);
  if (count > 0) {
    out.descriptors.create(static_cast<int>(count), static_cast<int>(cols), CV_8U);
    for (uint32_t r = 0; r < count; ++r, p += cols) std::memcpy(out.descriptors.ptr<uint8_t>(static_cast<int>(r)), p, cols);
  }
  return out;
}

}  // namespace framesift
