// Features and matching (native/local_features.cc, matching.cc): a translated texture matches
// with its known displacement; unrelated images do not verify.
#include <catch2/catch.hpp>

#include <vector>

#include <opencv2/imgproc.hpp>

#include "local_features.h"
#include "matching.h"

using namespace framesift;

namespace {
cv::Mat Texture(int seed) {
  cv::Mat img(240, 320, CV_8UC1, cv::Scalar(0));
  cv::RNG rng(seed);
  for (int i = 0; i < 120; ++i) {
    cv::Point c(rng.uniform(0, 320), rng.uniform(0, 240));
    cv::circle(img, c, rng.uniform(3, 18), cv::Scalar(rng.uniform(40, 255)), cv::FILLED);
    cv::rectangle(img, cv::Rect(rng.uniform(0, 300), rng.uniform(0, 220), rng.uniform(4, 30), rng.uniform(4, 30)),
                  cv::Scalar(rng.uniform(0, 255)), cv::FILLED);
  }
  return img;
}

cv::Mat Shifted(const cv::Mat& src, int dx, int dy) {
  cv::Mat out;
  cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy);
  cv::warpAffine(src, out, m, src.size(), cv::INTER_NEAREST, cv::BORDER_REFLECT);
  return out;
}
}  // namespace

TEST_CASE("SIFT and ORB match a translated image with its displacement") {
  const cv::Mat a = Texture(1), b = Shifted(a, 12, 5);
  for (FeatureKind kind : {FeatureKind::Sift, FeatureKind::Orb}) {
    FeatureOptions options;
    options.kind = kind;
    options.maxFeatures = 800;
    FeatureData fa = ExtractFeatures(a.data, a.cols, a.rows, static_cast<int>(a.step), options);
    FeatureData fb = ExtractFeatures(b.data, b.cols, b.rows, static_cast<int>(b.step), options);
    REQUIRE(fa.Count() > 50);
    CHECK(fa.Count() <= 800);
    PairResult r = MatchAndVerify(fa, fb, MatchOptions{});
    CHECK(r.verified);
    CHECK(r.fInliers >= 15);
    CHECK(r.medianDisplacementPx == Approx(13.0).margin(1.0));  // |(12, 5)| = 13
    CHECK(r.inliers.size() == 2 * static_cast<size_t>(r.fInliers));
  }
}

TEST_CASE("unrelated images do not verify; an empty image has no features") {
  FeatureOptions options;
  const cv::Mat a = Texture(1), b = Texture(2);
  FeatureData fa = ExtractFeatures(a.data, a.cols, a.rows, static_cast<int>(a.step), options);
  FeatureData fb = ExtractFeatures(b.data, b.cols, b.rows, static_cast<int>(b.step), options);
  CHECK_FALSE(MatchAndVerify(fa, fb, MatchOptions{}).verified);
  cv::Mat flat(64, 64, CV_8UC1, cv::Scalar(90));
  FeatureData none = ExtractFeatures(flat.data, 64, 64, 64, options);
  CHECK(none.Count() == 0);
  PairResult r = MatchAndVerify(none, fa, MatchOptions{});
  CHECK(r.matches == 0);
  CHECK_FALSE(r.verified);
}
