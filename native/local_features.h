// Local features of one image: SIFT (optionally RootSIFT) or ORB keypoints and descriptors,
// detected on a gray image given by pointer (no copy). Plain C++, no N-API: used by the addon
// (native/geometry_binding.cc) and by the benchmark reference tools.
// (Not named features.h: that would shadow glibc's <features.h> for tools built with -I native.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace framesift {

enum class FeatureKind { Sift = 0, Orb = 1 };

struct FeatureOptions {
  FeatureKind kind = FeatureKind::Sift;
  int maxFeatures = 2000;          // the strongest features are kept (0 = no cap)
  bool rootSift = false;           // SIFT only: L1-normalise then square-root the descriptor
  double downscale = 1.0;          // (0, 1]: detect on an image resized by this factor
  double contrastThreshold = 0.04; // SIFT only: OpenCV's default
  // SIFT only: remove OpenCV 4.6's shift of every keypoint by +0.25 px right and down (of the
  // detection image). Its first octave doubles the image centre-aligned (INTER_LINEAR_EXACT:
  // doubled pixel u lies at u / 2 - 0.25) but maps keypoints back by halving. OpenCV 4.8's
  // enable_precise_upscale fixes the same.
  bool unshift = false;
};

// Keypoints and descriptors of one image, owned natively. Coordinates are always in the
// pixel units of the input image (downscaled detection is scaled back). Descriptors are
// 8-bit in both cases (SIFT: OpenCV's CV_8U descriptor, 128 bytes; ORB: 32 bytes), a quarter
// of float SIFT's memory: 2,000 SIFT features take ~290 KB.
struct FeatureData {
  FeatureKind kind = FeatureKind::Sift;
  bool rootSift = false;
  int width = 0;   // input image size
  int height = 0;
  std::vector<float> xy;     // x0,y0,x1,y1,... (input pixels)
  std::vector<float> scale;  // keypoint diameter in input pixels
  std::vector<float> angle;  // orientation, degrees in [0, 360) (OpenCV's KeyPoint::angle)
  cv::Mat descriptors;       // count x 128 (SIFT) or count x 32 (ORB), CV_8U

  int Count() const { return static_cast<int>(xy.size() / 2); }
  size_t ByteLength() const {
    return (xy.size() + scale.size() + angle.size()) * sizeof(float) + descriptors.total() * descriptors.elemSize();
  }
};

// Detects and describes features on a gray8 image (data, width, height, stride bytes/row).
// An empty or featureless image gives an empty FeatureData, not an error.
FeatureData ExtractFeatures(const uint8_t* data, int width, int height, int stride, const FeatureOptions& options);

// A feature set as bytes, to save it and read it back (re-selection without a decode).
// Layout, little-endian: "FSFS", u32 version (1), u32 kind, u32 rootSift, i32 width,
// i32 height, u32 count, u32 descriptor bytes; then count*2 f32 xy, count f32 scale,
// count*descriptor-bytes u8 descriptors.
std::vector<uint8_t> SerializeFeatures(const FeatureData& data);
// The inverse; malformed bytes (wrong magic, version, sizes) fail with ErrorCode::InvalidArg.
FeatureData DeserializeFeatures(const uint8_t* bytes, size_t length);

}  // namespace framesift
