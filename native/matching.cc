#include "matching.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/flann.hpp>

namespace framesift {
namespace {

using Knn = std::vector<std::vector<cv::DMatch>>;

Knn NearestHamming(const FeatureData& query, const FeatureData& train, int k) {
  Knn knn;
  cv::BFMatcher matcher(cv::NORM_HAMMING);
  matcher.knnMatch(query.descriptors, train.descriptors, knn, k);
  return knn;
}

bool PassesRatio(const std::vector<cv::DMatch>& m, double ratio) {
  return m.size() >= 2 && m[0].distance < ratio * m[1].distance;
}

// For each row of b, its nearest row of a (-1: not searched or none), searched only for the rows
// of b that some row of a's forward match passing the ratio test names: the mutual check reads no
// other. FLANN answers each query on its own (its heap and visited set are per query), so a
// subset of the queries gets exactly the answers the whole set would (4,000 SIFT features a
// frame of the grain clip: a pair's matching 92 -> 62 ms of CPU).
std::vector<int> BackSearch(const Knn& forward, const DescriptorIndex& indexA, const DescriptorIndex& indexB, double ratio,
                            int checks) {
  const cv::Mat& rowsB = indexB.Descriptors();
  std::vector<int> backward(rowsB.rows, -1);
  std::vector<int> wanted;
  for (const auto& m : forward)
    if (PassesRatio(m, ratio) && backward[m[0].trainIdx] == -1) {
      backward[m[0].trainIdx] = -2;  // wanted, not searched yet
      wanted.push_back(m[0].trainIdx);
    }
  if (wanted.empty()) return backward;
  std::sort(wanted.begin(), wanted.end());
  cv::Mat queries(static_cast<int>(wanted.size()), rowsB.cols, rowsB.type());
  for (size_t r = 0; r < wanted.size(); ++r) rowsB.row(wanted[r]).copyTo(queries.row(static_cast<int>(r)));
  const Knn back = indexA.Search(queries, 1, checks);
  for (size_t r = 0; r < wanted.size(); ++r) backward[wanted[r]] = back[r].empty() ? -1 : back[r][0].trainIdx;
  return backward;
}

// The forward matches passing the ratio test (with `backward`, only those whose train row's own
// nearest is the query row), as flat (a, b) row pairs.
std::vector<uint32_t> RatioTested(const Knn& forward, const std::vector<int>* backward, double ratio) {
  std::vector<uint32_t> out;
  for (const auto& m : forward) {
    if (!PassesRatio(m, ratio) || (backward && (*backward)[m[0].trainIdx] != m[0].queryIdx)) continue;
    out.push_back(static_cast<uint32_t>(m[0].queryIdx));
    out.push_back(static_cast<uint32_t>(m[0].trainIdx));
  }
  return out;
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
// principal point at the image centre. E = K^T F K decomposes into two rotations and +-t;
// cheirality (both depths positive, solved per point in closed form) picks the pose; the
// angle between a point's two viewing rays is that of K^-1 x1 and R^T K^-1 x2. Done with
// fixed-size matrices instead of cv::recoverPose, whose per-point SVDs and BLAS calls were
// slow and serialised the pair threads. -1 when no pose can be chosen.
double TriangulationAngle(const cv::Matx33d& F, const std::vector<cv::Point2f>& p1, const std::vector<cv::Point2f>& p2,
                          const std::vector<uint8_t>& fMask, double focal, int width, int height) {
  const cv::Matx33d K(focal, 0, width / 2.0, 0, focal, height / 2.0, 0, 0, 1);
  const cv::Matx33d Kinv = K.inv();
  std::vector<cv::Vec3d> b1, b2;  // unit bearings of the inliers in each camera
  for (size_t k = 0; k < fMask.size(); ++k) {
    if (!fMask[k]) continue;
    b1.push_back(cv::normalize(Kinv * cv::Vec3d(p1[k].x, p1[k].y, 1)));
    b2.push_back(cv::normalize(Kinv * cv::Vec3d(p2[k].x, p2[k].y, 1)));
  }
  if (b1.size() < 5) return -1;
  cv::Mat R1, R2, t;
  try {
    cv::decomposeEssentialMat(cv::Mat(K.t() * F * K), R1, R2, t);
  } catch (const cv::Exception&) {
    return -1;
  }
  const cv::Matx33d rotations[2] = {cv::Matx33d(R1), cv::Matx33d(R2)};
  const cv::Vec3d tv(t.at<double>(0), t.at<double>(1), t.at<double>(2));
  // x_cam2 = R x_cam1 + t; d2 b2 = d1 R b1 + t, least squares in (d1, d2) per point.
  const size_t step = std::max<size_t>(1, b1.size() / 200);
  int bestFront = -1;
  cv::Matx33d best = rotations[0];
  for (const auto& R : rotations) {
    for (double sign : {1.0, -1.0}) {
      const cv::Vec3d tt = tv * sign;
      int front = 0;
      for (size_t k = 0; k < b1.size(); k += step) {
        const cv::Vec3d a = R * b1[k], c = -b2[k];
        const double aa = a.dot(a), ac = a.dot(c), cc = c.dot(c), at = a.dot(tt), ct = c.dot(tt);
        const double det = aa * cc - ac * ac;
        if (std::abs(det) < 1e-12) continue;
        const double d1 = (-at * cc + ct * ac) / det, d2 = (-ct * aa + at * ac) / det;
        if (d1 > 0 && d2 > 0) ++front;
      }
      if (front > bestFront) {
        bestFront = front;
        best = R;
      }
    }
  }
  if (bestFront <= 0) return -1;
  std::vector<double> angles(b1.size());
  for (size_t k = 0; k < b1.size(); ++k) {
    const double c = b1[k].dot(best.t() * b2[k]);
    angles[k] = std::acos(std::min(1.0, std::max(-1.0, c))) * 180.0 / CV_PI;
  }
  return Median(angles);
}

}  // namespace

cv::Mat UnitRootSift(const FeatureData& set) {
  cv::Mat out;
  set.descriptors.convertTo(out, CV_32F);
  for (int r = 0; r < out.rows; ++r) {
    float* row = out.ptr<float>(r);
    double sum = 0;
    if (set.rootSift) {
      for (int c = 0; c < out.cols; ++c) sum += static_cast<double>(row[c]) * row[c];
      const float inv = sum > 0 ? static_cast<float>(1 / std::sqrt(sum)) : 0.f;
      for (int c = 0; c < out.cols; ++c) row[c] *= inv;
    } else {
      for (int c = 0; c < out.cols; ++c) sum += row[c];
      const float inv = sum > 0 ? static_cast<float>(1 / sum) : 0.f;
      for (int c = 0; c < out.cols; ++c) row[c] = std::sqrt(row[c] * inv);
    }
  }
  return out;
}

namespace {

// The rows of a product block carry their global index from row0 on.
constexpr int kExactBlockRows = 256;
// Seed of every FLANN index build (any fixed value: only its sameness matters).
constexpr unsigned kIndexSeed = 0x5eed;
constexpr int kLanes = 16;

// Two best dot products of every row of a block (row-wise) and of every column so far
// (colBest/colSecond/colIndex, across blocks). Branchless with kLanes running maxima per row so
// that the compiler vectorises both; target_clones picks AVX-512 or AVX2 where the CPU has them
// (the default build targets plain x86-64). Ties: the first index within a lane.
__attribute__((target_clones("avx512f", "avx2", "default")))
void ScanBlock(const float* __restrict dots, int rows, int m, int row0, float* __restrict colBest,
               float* __restrict colSecond, int* __restrict colIndex, float* __restrict rowBest,
               float* __restrict rowSecond, int* __restrict rowIndex) {
  for (int r = 0; r < rows; ++r) {
    const float* __restrict row = dots + static_cast<size_t>(r) * m;
    const int i = row0 + r;
    float lb[kLanes], ls[kLanes];
    int li[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      lb[l] = ls[l] = -2.f;
      li[l] = -1;
    }
    int j = 0;
    for (; j + kLanes <= m; j += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const float d = row[j + l];
        ls[l] = std::max(ls[l], std::min(lb[l], d));
        li[l] = d > lb[l] ? j + l : li[l];
        lb[l] = std::max(lb[l], d);
        const float c = colBest[j + l];
        colSecond[j + l] = std::max(colSecond[j + l], std::min(c, d));
        colIndex[j + l] = d > c ? i : colIndex[j + l];
        colBest[j + l] = std::max(c, d);
      }
    }
    float best = -2.f, second = -2.f;
    int bestJ = -1;
    for (int l = 0; l < kLanes; ++l) {
      if (lb[l] > best) {
        second = std::max(best, ls[l]);
        best = lb[l];
        bestJ = li[l];
      } else {
        second = std::max(second, lb[l]);
      }
    }
    for (; j < m; ++j) {
      const float d = row[j];
      if (d > best) {
        second = best;
        best = d;
        bestJ = j;
      } else if (d > second) {
        second = d;
      }
      const float c = colBest[j];
      colSecond[j] = std::max(colSecond[j], std::min(c, d));
      colIndex[j] = d > c ? i : colIndex[j];
      colBest[j] = std::max(c, d);
    }
    rowBest[i] = best;
    rowSecond[i] = second;
    rowIndex[i] = bestJ;
  }
}

}  // namespace

std::vector<uint32_t> MatchExact(const cv::Mat& a, const cv::Mat& b, double ratio, double maxAngleRad, bool mutual) {
  std::vector<uint32_t> out;
  const int n = a.rows, m = b.rows;
  if (n < 2 || m < 2 || a.cols != b.cols || a.type() != CV_32F || b.type() != CV_32F) return out;
  // Scratch kept per thread: one block of the product (kExactBlockRows x m floats, in cache,
  // scanned while warm: the whole n x m product is tens of MB and scanning it from memory
  // took as long as the product itself) and the two best of every row and column.
  thread_local std::vector<float> block, colBest, colSecond, rowBest, rowSecond;
  thread_local std::vector<int> colIndex, rowIndex;
  block.resize(static_cast<size_t>(std::min(n, kExactBlockRows)) * m);
  colBest.assign(m, -2.f);
  colSecond.assign(m, -2.f);
  colIndex.assign(m, -1);
  rowBest.resize(n);
  rowSecond.resize(n);
  rowIndex.resize(n);
  for (int row0 = 0; row0 < n; row0 += kExactBlockRows) {
    const int rows = std::min(kExactBlockRows, n - row0);
    cv::Mat dots(rows, m, CV_32F, block.data());
    cv::gemm(a.rowRange(row0, row0 + rows), b, 1, cv::noArray(), 0, dots, cv::GEMM_2_T);
    ScanBlock(block.data(), rows, m, row0, colBest.data(), colSecond.data(), colIndex.data(), rowBest.data(),
              rowSecond.data(), rowIndex.data());
  }
  // The angle between unit vectors falls as their dot product rises: compare dot products,
  // take the angles only for the two best of each row and column.
  auto accept = [&](float best, float second) {
    const double bestAngle = std::acos(std::min(1.f, best)), secondAngle = std::acos(std::min(1.f, second));
    return bestAngle <= maxAngleRad && bestAngle < ratio * secondAngle;
  };
  out.reserve(2 * static_cast<size_t>(std::min(n, m)));
  for (int i = 0; i < n; ++i) {
    const int j = rowIndex[i];
    if (j < 0 || !accept(rowBest[i], rowSecond[i])) continue;
    if (mutual && (colIndex[j] != i || !accept(colBest[j], colSecond[j]))) continue;
    out.push_back(static_cast<uint32_t>(i));
    out.push_back(static_cast<uint32_t>(j));
  }
  return out;
}

DescriptorIndex::DescriptorIndex(const FeatureData& set, bool exact) {
  if (exact) {
    descriptors_ = UnitRootSift(set);
    return;
  }
  set.descriptors.convertTo(descriptors_, CV_32F);
  if (descriptors_.rows == 0) return;
  // The randomised trees draw from the thread's cv::theRNG() (split dimensions) and from
  // std::rand() (std::random_shuffle of the points): whichever thread built which index before,
  // and another building at the same time, changed the trees, the matches found and, now and
  // then, a pick from run to run. Seeded per build, one build at a time (~10 ms of a 4,000-point
  // set), the same descriptors always give the same trees.
  static std::mutex building;
  std::lock_guard<std::mutex> lock(building);
  cv::theRNG() = cv::RNG(kIndexSeed);
  std::srand(kIndexSeed);
  index_ = std::make_unique<cv::flann::Index>(descriptors_, cv::flann::KDTreeIndexParams(4), cvflann::FLANN_DIST_L2);
}

std::shared_ptr<const DescriptorIndex> IndexCache::Get(const std::shared_ptr<const FeatureData>& set) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->set.expired()) {
        it = entries_.erase(it);
      } else if (it->key == set.get()) {
        slot = it->slot;
        entries_.splice(entries_.begin(), entries_, it);
        break;
      } else {
        ++it;
      }
    }
    if (!slot) {
      slot = std::make_shared<Slot>();
      entries_.push_front(Entry{set.get(), set, slot});
      while (entries_.size() > capacity_) entries_.pop_back();  // a job still using one holds its own reference
    }
  }
  std::call_once(slot->built, [&] { slot->index = std::make_shared<const DescriptorIndex>(*set); });
  return slot->index;
}

void IndexCache::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

size_t IndexCache::Size() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.remove_if([](const Entry& e) { return e.set.expired(); });
  return entries_.size();
}

bool SameMatchOptions(const MatchOptions& x, const MatchOptions& y) {
  return x.ratio == y.ratio && x.mutual == y.mutual && x.fThresholdPx == y.fThresholdPx && x.hThresholdPx == y.hThresholdPx &&
         x.confidence == y.confidence && x.maxIterations == y.maxIterations && x.minInliers == y.minInliers &&
         x.focalPx == y.focalPx && x.flannChecks == y.flannChecks && x.minMatches == y.minMatches && x.exact == y.exact &&
         x.maxAngleRad == y.maxAngleRad;
}

void PairCache::DropExpired() {
  entries_.remove_if([](const Entry& e) { return e.setA.expired() || e.setB.expired(); });
}

std::shared_ptr<const PairResult> PairCache::Find(const std::shared_ptr<const FeatureData>& a,
                                                  const std::shared_ptr<const FeatureData>& b, const MatchOptions& options) {
  std::lock_guard<std::mutex> lock(mutex_);
  DropExpired();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->a != a.get() || it->b != b.get() || !SameMatchOptions(it->options, options)) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return entries_.front().result;
  }
  return nullptr;
}

void PairCache::Put(const std::shared_ptr<const FeatureData>& a, const std::shared_ptr<const FeatureData>& b,
                    const MatchOptions& options, std::shared_ptr<const PairResult> result) {
  std::lock_guard<std::mutex> lock(mutex_);
  DropExpired();
  entries_.remove_if([&](const Entry& e) { return e.a == a.get() && e.b == b.get() && SameMatchOptions(e.options, options); });
  entries_.push_front(Entry{a.get(), b.get(), a, b, options, std::move(result)});
  while (entries_.size() > capacity_) entries_.pop_back();
}

void PairCache::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

size_t PairCache::Size() {
  std::lock_guard<std::mutex> lock(mutex_);
  DropExpired();
  return entries_.size();
}

Knn DescriptorIndex::Search(const cv::Mat& queries, int k, int checks) const {
  Knn knn(queries.rows);
  if (!index_ || queries.rows == 0) return knn;
  k = std::min(k, descriptors_.rows);
  cv::Mat indices(queries.rows, k, CV_32S), dists(queries.rows, k, CV_32F);
  index_->knnSearch(queries, indices, dists, k, cv::flann::SearchParams(checks));
  for (int r = 0; r < queries.rows; ++r) {
    for (int c = 0; c < k; ++c) {
      int idx = indices.at<int>(r, c);
      if (idx < 0) continue;
      // FLANN reports squared L2 distances; the ratio test wants distances.
      knn[r].emplace_back(r, idx, std::sqrt(dists.at<float>(r, c)));
    }
  }
  return knn;
}

std::vector<uint32_t> MatchDescriptors(const FeatureData& a, const FeatureData& b, const MatchOptions& options,
                                       const DescriptorIndex* indexA, const DescriptorIndex* indexB) {
  // knnMatch with k=2 needs two train rows.
  if (a.Count() < 2 || b.Count() < 2 || a.kind != b.kind || a.descriptors.cols != b.descriptors.cols) return {};
  Knn forward;
  std::vector<int> backward;
  if (a.kind == FeatureKind::Orb) {
    forward = NearestHamming(a, b, 2);
    if (options.mutual) {
      backward.assign(b.Count(), -1);
      for (const auto& m : NearestHamming(b, a, 1))
        if (!m.empty()) backward[m[0].queryIdx] = m[0].trainIdx;
    }
  } else if (options.exact) {
    std::unique_ptr<DescriptorIndex> ownA, ownB;
    if (!indexA) indexA = (ownA = std::make_unique<DescriptorIndex>(a, true)).get();
    if (!indexB) indexB = (ownB = std::make_unique<DescriptorIndex>(b, true)).get();
    return MatchExact(indexA->Descriptors(), indexB->Descriptors(), options.ratio, options.maxAngleRad, options.mutual);
  } else {
    std::unique_ptr<DescriptorIndex> ownA, ownB;
    if (!indexA) indexA = (ownA = std::make_unique<DescriptorIndex>(a)).get();
    if (!indexB) indexB = (ownB = std::make_unique<DescriptorIndex>(b)).get();
    forward = indexB->Search(indexA->Descriptors(), 2, options.flannChecks);
    if (options.mutual) backward = BackSearch(forward, *indexA, *indexB, options.ratio, options.flannChecks);
  }
  return RatioTested(forward, options.mutual ? &backward : nullptr, options.ratio);
}

PairResult VerifyMatches(const std::vector<float>& xy1, const std::vector<float>& xy2, int width, int height,
                         const MatchOptions& options, std::vector<uint8_t>* inlierMask) {
  PairResult result;
  int n = static_cast<int>(std::min(xy1.size(), xy2.size()) / 2);
  result.matches = n;
  if (n < 8) return result;  // the 8-point minimum (7 with a cubic, but too fragile to trust)
  if (n < options.minMatches) return result;

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

PairResult MatchAndVerify(const FeatureData& a, const FeatureData& b, const MatchOptions& options,
                          const DescriptorIndex* indexA, const DescriptorIndex* indexB) {
  std::vector<uint32_t> matches = MatchDescriptors(a, b, options, indexA, indexB);
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
  result.putative = std::move(matches);
  return result;
}

}  // namespace framesift
