#include "matching.h"

#include <algorithm>
#include <cmath>

#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/flann.hpp>

namespace framesift {
namespace {

using Knn = std::vector<std::vector<cv::DMatch>>;

// k nearest neighbours of every query row among the train rows.
Knn Nearest(const FeatureData& query, const FeatureData& train, int k, const MatchOptions& options) {
  Knn knn;
  if (query.kind == FeatureKind::Orb) {
    cv::BFMatcher matcher(cv::NORM_HAMMING);
    matcher.knnMatch(query.descriptors, train.descriptors, knn, k);
    return knn;
  }
  cv::Mat q, t;
  query.descriptors.convertTo(q, CV_32F);
  train.descriptors.convertTo(t, CV_32F);
  cv::FlannBasedMatcher matcher(cv::makePtr<cv::flann::KDTreeIndexParams>(4),
                                cv::makePtr<cv::flann::SearchParams>(options.flannChecks));
  matcher.knnMatch(q, t, knn, k);
  return knn;
}

double Median(std::vector<double>& values) {
  if (values.empty()) return 0;
  size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  return (*std::max_element(values.begin(), values.begin() + mid) + upper) / 2;
}

// Symmetric epipolar distance: mean of the distances of x2 to F x1 and of x1 to F^T x2.
double EpipolarDistance(const cv::Matx33d& F, const cv::Point2f& p1, const cv::Point2f& p2) {
  cv::Vec3d x1(p1.x, p1.y, 1), x2(p2.x, p2.y, 1);
  cv::Vec3d l2 = F * x1, l1 = F.t() * x2;
  double e = x2.dot(l2);
  double d2 = std::abs(e) / std::max(1e-12, std::hypot(l2[0], l2[1]));
  double d1 = std::abs(e) / std::max(1e-12, std::hypot(l1[0], l1[1]));
  return (d1 + d2) / 2;
}

double HomographyResidual(const cv::Matx33d& H, const cv::Point2f& p1, const cv::Point2f& p2) {
  cv::Vec3d y = H * cv::Vec3d(p1.x, p1.y, 1);
  if (std::abs(y[2]) < 1e-12) return 1e9;
  return std::hypot(y[0] / y[2] - p2.x, y[1] / y[2] - p2.y);
}

// Median triangulation angle (degrees) of the F inliers for a focal-length guess with the
// principal point at the image centre: E = K^T F K gives the relative rotation R (cheirality
// picks among the four decompositions); the angle between a point's two viewing rays is the
// angle between K^-1 x1 and R^T K^-1 x2. -1 when the pose cannot be recovered.
double TriangulationAngle(const cv::Matx33d& F, const std::vector<cv::Point2f>& p1, const std::vector<cv::Point2f>& p2,
                          const std::vector<uint8_t>& fMask, double focal, int width, int height) {
  cv::Matx33d K(focal, 0, width / 2.0, 0, focal, height / 2.0, 0, 0, 1);
  std::vector<cv::Point2f> a, b;
  for (size_t k = 0; k < fMask.size(); ++k) {
    if (!fMask[k]) continue;
    a.push_back(p1[k]);
    b.push_back(p2[k]);
  }
  if (a.size() < 5) return -1;
  cv::Mat R, t;
  try {
    cv::Mat E(K.t() * F * K);
    if (cv::recoverPose(E, a, b, cv::Mat(K), R, t) == 0) return -1;
  } catch (const cv::Exception&) {
    return -1;
  }
  cv::Matx33d Rm(R), Kinv = K.inv();
  std::vector<double> angles(a.size());
  for (size_t k = 0; k < a.size(); ++k) {
    cv::Vec3d r1 = Kinv * cv::Vec3d(a[k].x, a[k].y, 1);
    cv::Vec3d r2 = Rm.t() * (Kinv * cv::Vec3d(b[k].x, b[k].y, 1));
    double c = r1.dot(r2) / (cv::norm(r1) * cv::norm(r2));
    angles[k] = std::acos(std::min(1.0, std::max(-1.0, c))) * 180.0 / CV_PI;
  }
  return Median(angles);
}

}  // namespace

std::vector<uint32_t> MatchDescriptors(const FeatureData& a, const FeatureData& b, const MatchOptions& options) {
  std::vector<uint32_t> out;
  // knnMatch with k=2 needs two train rows; kd-trees need a few more to be meaningful.
  if (a.Count() < 2 || b.Count() < 2 || a.kind != b.kind || a.descriptors.cols != b.descriptors.cols) return out;
  Knn forward = Nearest(a, b, 2, options);
  std::vector<int> backward;
  if (options.mutual) {
    Knn back = Nearest(b, a, 1, options);
    backward.assign(b.Count(), -1);
    for (const auto& m : back)
      if (!m.empty()) backward[m[0].queryIdx] = m[0].trainIdx;
  }
  for (const auto& m : forward) {
    if (m.size() < 2) continue;
    if (m[0].distance >= options.ratio * m[1].distance) continue;
    if (options.mutual && backward[m[0].trainIdx] != m[0].queryIdx) continue;
    out.push_back(static_cast<uint32_t>(m[0].queryIdx));
    out.push_back(static_cast<uint32_t>(m[0].trainIdx));
  }
  return out;
}

PairResult VerifyMatches(const std::vector<float>& xy1, const std::vector<float>& xy2, int width, int height,
                         const MatchOptions& options, std::vector<uint8_t>* inlierMask) {
  PairResult result;
  int n = static_cast<int>(std::min(xy1.size(), xy2.size()) / 2);
  result.matches = n;
  if (n < 8) return result;  // the 8-point minimum (7 with a cubic, but too fragile to trust)

  std::vector<cv::Point2f> p1(n), p2(n);
  for (int k = 0; k < n; ++k) {
    p1[k] = cv::Point2f(xy1[2 * k], xy1[2 * k + 1]);
    p2[k] = cv::Point2f(xy2[2 * k], xy2[2 * k + 1]);
  }

  std::vector<uint8_t> fMask;
  cv::Mat F;
  try {
    F = cv::findFundamentalMat(p1, p2, cv::USAC_MAGSAC, options.fThresholdPx, options.confidence,
                               options.maxIterations, fMask);
    result.method = FMethod::Magsac;
  } catch (const cv::Exception&) {
    F.release();
  }
  if (F.empty() || F.rows != 3) {
    try {
      fMask.clear();
      F = cv::findFundamentalMat(p1, p2, cv::FM_RANSAC, options.fThresholdPx, options.confidence,
                                 options.maxIterations, fMask);
      result.method = FMethod::Ransac;
    } catch (const cv::Exception&) {
      F.release();
    }
  }
  // Several solutions (7-point) come stacked: keep the first.
  if (F.empty() || F.rows < 3 || fMask.size() != static_cast<size_t>(n)) {
    result.method = FMethod::None;
    return result;
  }
  cv::Matx33d Fm(F.rowRange(0, 3));
  result.hasF = true;
  for (int k = 0; k < 9; ++k) result.F[k] = Fm.val[k];

  std::vector<uint8_t> hMask;
  cv::Mat H;
  try {
    H = cv::findHomography(p1, p2, cv::RANSAC, options.hThresholdPx, hMask, options.maxIterations, options.confidence);
  } catch (const cv::Exception&) {
    H.release();
  }
  cv::Matx33d Hm = cv::Matx33d::eye();
  if (!H.empty() && H.rows == 3 && hMask.size() == static_cast<size_t>(n)) {
    Hm = cv::Matx33d(H);
    result.hasH = true;
    for (int k = 0; k < 9; ++k) result.H[k] = Hm.val[k];
    for (uint8_t m : hMask) result.hInliers += m ? 1 : 0;
  }

  std::vector<double> parallax, displacement;
  double epipolarSum = 0;
  int explainedByH = 0;
  for (int k = 0; k < n; ++k) {
    if (!fMask[k]) continue;
    ++result.fInliers;
    epipolarSum += EpipolarDistance(Fm, p1[k], p2[k]);
    displacement.push_back(std::hypot(p2[k].x - p1[k].x, p2[k].y - p1[k].y));
    if (result.hasH) {
      double residual = HomographyResidual(Hm, p1[k], p2[k]);
      parallax.push_back(residual);
      if (residual <= options.hThresholdPx) ++explainedByH;
    }
  }
  result.fInlierRatio = static_cast<double>(result.fInliers) / n;
  result.hInlierRatio = static_cast<double>(result.hInliers) / n;
  if (result.fInliers > 0) {
    result.meanEpipolarErrorPx = epipolarSum / result.fInliers;
    result.degeneracy = static_cast<double>(explainedByH) / result.fInliers;
  }
  result.medianDisplacementPx = Median(displacement);
  // Without a homography nothing can be removed: the raw displacement is all there is.
  result.medianParallaxPx = result.hasH ? Median(parallax) : result.medianDisplacementPx;
  double focal = options.focalPx > 0 ? options.focalPx : 1.2 * std::max(width, height);
  result.triangulationAngleDeg = TriangulationAngle(Fm, p1, p2, fMask, focal, width, height);
  if (result.triangulationAngleDeg < 0) result.triangulationAngleDeg = std::atan(result.medianParallaxPx / focal) * 180.0 / CV_PI;
  result.verified = result.fInliers >= options.minInliers;
  if (inlierMask) *inlierMask = std::move(fMask);
  return result;
}

PairResult MatchAndVerify(const FeatureData& a, const FeatureData& b, const MatchOptions& options) {
  std::vector<uint32_t> matches = MatchDescriptors(a, b, options);
  size_t n = matches.size() / 2;
  std::vector<float> xy1(n * 2), xy2(n * 2);
  for (size_t k = 0; k < n; ++k) {
    uint32_t ia = matches[2 * k], ib = matches[2 * k + 1];
    xy1[2 * k] = a.xy[2 * ia];
    xy1[2 * k + 1] = a.xy[2 * ia + 1];
    xy2[2 * k] = b.xy[2 * ib];
    xy2[2 * k + 1] = b.xy[2 * ib + 1];
  }
  std::vector<uint8_t> mask;
  PairResult result =
      VerifyMatches(xy1, xy2, std::max(a.width, b.width), std::max(a.height, b.height), options, &mask);
  result.inliers.reserve(static_cast<size_t>(result.fInliers) * 2);
  for (size_t k = 0; k < mask.size() && k < n; ++k) {
    if (!mask[k]) continue;
    result.inliers.push_back(matches[2 * k]);
    result.inliers.push_back(matches[2 * k + 1]);
  }
  return result;
}

}  // namespace framesift
