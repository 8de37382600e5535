// Features and matching (native/local_features.cc, matching.cc): a translated texture matches
// with its known displacement; unrelated images do not verify.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "local_features.h"
#include "matching.h"
#include "test_images.h"

using namespace framesift;

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

namespace {
// COLMAP's brute-force rule written out plainly (one direction): the best row of b by angle,
// kept when within maxAngle and below ratio x the second best's angle.
std::vector<int> ReferenceOneWay(const cv::Mat& a, const cv::Mat& b, double ratio, double maxAngle) {
  std::vector<int> best(a.rows, -1);
  for (int i = 0; i < a.rows; ++i) {
    double first = 10, second = 10;
    int j1 = -1;
    for (int j = 0; j < b.rows; ++j) {
      const double angle = std::acos(std::min(1.0, a.row(i).dot(b.row(j))));
      if (angle < first) {
        second = first;
        first = angle;
        j1 = j;
      } else if (angle < second) {
        second = angle;
      }
    }
    if (first <= maxAngle && first < ratio * second) best[i] = j1;
  }
  return best;
}

cv::Mat UnitRows(int rows, int cols, cv::RNG& rng) {
  cv::Mat m(rows, cols, CV_32F);
  rng.fill(m, cv::RNG::UNIFORM, 0.0, 1.0);
  for (int r = 0; r < rows; ++r) m.row(r) /= cv::norm(m.row(r));
  return m;
}
}  // namespace

TEST_CASE("exact matching keeps COLMAP's mutual ratio-tested matches, as a plain brute force finds them") {
  cv::RNG rng(7);
  const cv::Mat a = UnitRows(420, 128, rng);
  cv::Mat b = UnitRows(260, 128, rng);
  // Rows 0..199 of b are noisy copies of rows 2k of a: true matches among 260 distractors.
  for (int k = 0; k < 200; ++k) {
    cv::Mat noise(1, 128, CV_32F);
    rng.fill(noise, cv::RNG::NORMAL, 0.0, k < 150 ? 0.02 : 0.2);
    cv::Mat row = a.row(2 * k) + noise;
    row /= cv::norm(row);
    row.copyTo(b.row(k));
  }
  const double ratio = 0.8, maxAngle = 0.7;
  const std::vector<int> ab = ReferenceOneWay(a, b, ratio, maxAngle), ba = ReferenceOneWay(b, a, ratio, maxAngle);
  std::vector<uint32_t> expected;
  for (int i = 0; i < a.rows; ++i)
    if (ab[i] >= 0 && ba[ab[i]] == i) {
      expected.push_back(i);
      expected.push_back(ab[i]);
    }
  REQUIRE(expected.size() / 2 >= 150);  // the low-noise copies all pass
  REQUIRE(expected.size() / 2 < 200);   // the noisy ones do not all pass: the rule bites
  CHECK(MatchExact(a, b, ratio, maxAngle, true) == expected);
  // One-way: every accepted row of a, mutual or not.
  std::vector<uint32_t> oneWay;
  for (int i = 0; i < a.rows; ++i)
    if (ab[i] >= 0) {
      oneWay.push_back(i);
      oneWay.push_back(ab[i]);
    }
  CHECK(MatchExact(a, b, ratio, maxAngle, false) == oneWay);
  // A tighter max angle drops the noisier matches.
  CHECK(MatchExact(a, b, ratio, 0.05, true).size() < expected.size());
}

TEST_CASE("exact matching agrees with the plain brute force across product blocks and vector lanes") {
  // 600 rows: three blocks of the product (256, 256, 88); 9 and 37 columns: fewer than one
  // vector of lanes, and lanes plus a tail.
  cv::RNG rng(11);
  for (int m : {9, 37}) {
    const cv::Mat a = UnitRows(600, 128, rng);
    cv::Mat b = UnitRows(m, 128, rng);
    for (int k = 0; k < m; k += 2) {
      cv::Mat noise(1, 128, CV_32F);
      rng.fill(noise, cv::RNG::NORMAL, 0.0, 0.02);
      cv::Mat row = a.row(257 + 9 * k) + noise;  // copies spread over the blocks
      row /= cv::norm(row);
      row.copyTo(b.row(k));
    }
    const std::vector<int> ab = ReferenceOneWay(a, b, 0.8, 0.7), ba = ReferenceOneWay(b, a, 0.8, 0.7);
    std::vector<uint32_t> expected;
    for (int i = 0; i < a.rows; ++i)
      if (ab[i] >= 0 && ba[ab[i]] == i) {
        expected.push_back(i);
        expected.push_back(ab[i]);
      }
    REQUIRE(expected.size() / 2 == static_cast<size_t>((m + 1) / 2));  // every copy, nothing else
    CHECK(MatchExact(a, b, 0.8, 0.7, true) == expected);
  }
}

TEST_CASE("SIFT keypoints: OpenCV's +0.25 px shift, and unshift puts them on the blobs' centres") {
  // Gaussian blobs at known sub-pixel centres (pixel i covers [i - 0.5, i + 0.5]).
  cv::Mat img(240, 320, CV_8UC1);
  std::vector<cv::Point2d> centres;
  for (int by = 0; by < 4; ++by)
    for (int bx = 0; bx < 5; ++bx) centres.emplace_back(40 + bx * 60 + 0.3 * bx, 40 + by * 55 + 0.2 * by);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      double v = 20;
      for (const auto& c : centres) v += 200 * std::exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / 18.0);
      img.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(v);
    }
  auto meanOffset = [&](bool unshift) {
    FeatureOptions options;
    options.maxFeatures = 0;
    options.contrastThreshold = 0.01;
    options.unshift = unshift;
    const FeatureData f = ExtractFeatures(img.data, img.cols, img.rows, static_cast<int>(img.step), options);
    cv::Point2d sum(0, 0);
    int found = 0;
    for (const auto& c : centres) {
      double best = 2;
      cv::Point2d at;
      for (int k = 0; k < f.Count(); ++k) {
        const double d = std::hypot(f.xy[2 * k] - c.x, f.xy[2 * k + 1] - c.y);
        if (d < best) {
          best = d;
          at = cv::Point2d(f.xy[2 * k], f.xy[2 * k + 1]) - c;
        }
      }
      if (best < 2) {
        sum += at;
        ++found;
      }
    }
    REQUIRE(found == static_cast<int>(centres.size()));
    return sum / found;
  };
  const cv::Point2d shifted = meanOffset(false), fixed = meanOffset(true);
  CHECK(shifted.x == Approx(0.25).margin(0.03));
  CHECK(shifted.y == Approx(0.25).margin(0.03));
  CHECK(std::abs(fixed.x) < 0.03);
  CHECK(std::abs(fixed.y) < 0.03);
}

TEST_CASE("exact matching of SIFT sets: RootSIFT rows and the translated image's displacement") {
  const cv::Mat a = Texture(3), b = Shifted(a, 9, -4);
  FeatureOptions options;
  options.maxFeatures = 800;
  const FeatureData fa = ExtractFeatures(a.data, a.cols, a.rows, static_cast<int>(a.step), options);
  const FeatureData fb = ExtractFeatures(b.data, b.cols, b.rows, static_cast<int>(b.step), options);
  const cv::Mat root = UnitRootSift(fa);
  REQUIRE(root.rows == fa.Count());
  for (int r = 0; r < root.rows; r += 37) CHECK(cv::norm(root.row(r)) == Approx(1.0).epsilon(1e-5));
  MatchOptions exact;
  exact.exact = true;
  const std::vector<uint32_t> matches = MatchDescriptors(fa, fb, exact);
  REQUIRE(matches.size() / 2 > 100);
  int displaced = 0;
  for (size_t k = 0; k < matches.size(); k += 2) {
    const float dx = fb.xy[2 * matches[k + 1]] - fa.xy[2 * matches[k]], dy = fb.xy[2 * matches[k + 1] + 1] - fa.xy[2 * matches[k] + 1];
    if (std::abs(dx - 9) < 1.5 && std::abs(dy + 4) < 1.5) ++displaced;
  }
  CHECK(displaced >= static_cast<int>(matches.size() / 2 * 0.95));
}

TEST_CASE("the mutual check searches back only the rows it reads, with the full search's answers") {
  // MatchDescriptors searches a's index only for the rows of b that a ratio-tested forward match
  // names. FLANN answers each query on its own: the same rows searched in a subset or among all
  // give the same nearest rows, so the mutual matches are those of a full back search.
  const cv::Mat a = Texture(5), b = Shifted(Texture(5), 7, 3), c = Texture(6);
  FeatureOptions options;
  options.maxFeatures = 1500;
  const FeatureData fa = ExtractFeatures(a.data, a.cols, a.rows, static_cast<int>(a.step), options);
  for (const cv::Mat* other : {&b, &c}) {
    const FeatureData fb = ExtractFeatures(other->data, other->cols, other->rows, static_cast<int>(other->step), options);
    const DescriptorIndex indexA(fa), indexB(fb);
    const MatchOptions match;
    const auto forward = indexB.Search(indexA.Descriptors(), 2, match.flannChecks);
    const auto back = indexA.Search(indexB.Descriptors(), 1, match.flannChecks);
    std::vector<uint32_t> expected;
    int ratioPassed = 0;
    for (const auto& m : forward) {
      if (m.size() < 2 || m[0].distance >= match.ratio * m[1].distance) continue;
      ++ratioPassed;
      if (back[m[0].trainIdx].empty() || back[m[0].trainIdx][0].trainIdx != m[0].queryIdx) continue;
      expected.push_back(static_cast<uint32_t>(m[0].queryIdx));
      expected.push_back(static_cast<uint32_t>(m[0].trainIdx));
    }
    CHECK(MatchDescriptors(fa, fb, match, &indexA, &indexB) == expected);
    // Every other row of b searched alone, and in reverse order: the same nearest rows.
    cv::Mat some;
    std::vector<int> rows;
    for (int r = indexB.Descriptors().rows - 1; r >= 0; r -= 2) rows.push_back(r), some.push_back(indexB.Descriptors().row(r));
    const auto subset = indexA.Search(some, 1, match.flannChecks);
    for (size_t k = 0; k < rows.size(); ++k) {
      REQUIRE(subset[k].size() == back[rows[k]].size());
      if (!subset[k].empty()) CHECK(subset[k][0].trainIdx == back[rows[k]][0].trainIdx);
    }
    if (other == &b) {
      CHECK(expected.size() / 2 > 200);  // the shifted texture: most forward matches are mutual
      CHECK(ratioPassed < fb.Count());   // ...and the back search needed fewer rows than b has
    }
  }
}
