// Matching two feature sets and verifying the matches geometrically. Plain C++, no N-API.
//
// Matching: nearest neighbours (FLANN kd-trees for SIFT, brute-force Hamming for ORB), Lowe's
// ratio test, then a mutual check (a's nearest in b must have a as its nearest in a; for SIFT,
// only the rows of b that a ratio-tested match names are searched back).
// Verification: a fundamental matrix by USAC_MAGSAC (RANSAC if USAC throws) and a homography
// by RANSAC on the same matches, from which:
//  - degeneracy = |F inliers that the homography also explains| / |F inliers|: near 1 for a
//    pure rotation or a planar scene (no usable epipolar geometry), low with real parallax;
//  - medianParallaxPx = median over F inliers of |H x1 - x2|, the displacement left after
//    removing the homography (rotation / dominant plane) component, i.e. what depth causes;
//  - triangulationAngleDeg = median angle between the two viewing rays of each F inlier, for a
//    focal-length guess (principal point at the centre): the rotation R comes from
//    E = K^T F K (cv::recoverPose), the angle is that of K^-1 x1 and R^T K^-1 x2. Falls back
//    to atan(medianParallaxPx / focal) when the pose cannot be recovered. Meaningless when
//    degeneracy is high (F is then ill-defined): check degeneracy first.
#pragma once
#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/flann.hpp>

#include "local_features.h"

namespace framesift {

struct MatchOptions {
  double ratio = 0.8;              // Lowe's ratio test on the two nearest distances
  bool mutual = true;              // keep only mutual nearest neighbours
  double fThresholdPx = 1.0;       // F inlier threshold (MAGSAC: max sigma; RANSAC: distance)
  double hThresholdPx = 3.0;       // H inlier threshold (reprojection distance, px)
  double confidence = 0.999;
  int maxIterations = 5000;
  int minInliers = 15;             // a pair is "verified" with at least this many F inliers
  double focalPx = 0;              // focal-length guess; 0 = 1.2 x the longer image side
  int flannChecks = 32;            // SIFT: leaves visited per query
  int minMatches = 0;              // fewer putative matches than this: not verified at all (saves RANSAC on hopeless pairs)
  // SIFT: exact nearest neighbours as COLMAP's matcher finds them (RootSIFT descriptors, every
  // pair of rows compared by one matrix product, ratio test and max distance on the angle
  // between unit descriptors, both directions ratio-tested for the mutual check) instead of FLANN.
  bool exact = false;
  double maxAngleRad = 0.7;        // exact: COLMAP's max_distance (angle of the best match)
};

enum class FMethod { None = 0, Magsac = 1, Ransac = 2 };

struct PairResult {
  int matches = 0;                 // after ratio test and mutual check
  int fInliers = 0;
  double fInlierRatio = 0;         // fInliers / matches
  int hInliers = 0;
  double hInlierRatio = 0;         // hInliers / matches
  double degeneracy = 0;           // see above; 0 when there are no F inliers
  double meanEpipolarErrorPx = 0;  // mean symmetric point-to-epipolar-line distance of F inliers
  double medianParallaxPx = 0;     // see above
  double medianDisplacementPx = 0; // median raw |x2 - x1| of F inliers
  double triangulationAngleDeg = 0; // median, degrees
  bool verified = false;
  FMethod method = FMethod::None;
  bool hasF = false, hasH = false;
  std::array<double, 9> F{};       // row-major, x2^T F x1 = 0
  std::array<double, 9> H{};       // row-major, x2 ~ H x1
  std::vector<uint32_t> inliers;   // F inlier matches as (index in a, index in b) pairs
  std::vector<uint32_t> putative;  // MatchAndVerify: every ratio-tested mutual match, same layout
};

// A FLANN kd-tree forest over one set's SIFT descriptors (as floats), built once and searched
// by every pair the set takes part in: with a window of k neighbours each set is in ~2k pairs,
// and building dominates FLANN's cost at a few thousand features. Concurrent searches are
// safe (FLANN keeps its search state per call). Not used for ORB (brute-force Hamming).
// With `exact`, no kd-trees: the rows are kept as unit RootSIFT floats for MatchExact.
class DescriptorIndex {
 public:
  explicit DescriptorIndex(const FeatureData& set, bool exact = false);
  // k nearest rows of this set for every row of `queries` (CV_32F).
  std::vector<std::vector<cv::DMatch>> Search(const cv::Mat& queries, int k, int checks) const;
  const cv::Mat& Descriptors() const { return descriptors_; }

 private:
  cv::Mat descriptors_;  // CV_32F; the FLANN index points into it
  std::unique_ptr<cv::flann::Index> index_;
};

// FLANN indexes of recently matched SIFT sets, shared by the matching jobs that follow (the
// selection's pair checks, one or two pairs a job, then the tracks stage over the picks): a set's
// index is built once instead of once per job. Builds are seeded (DescriptorIndex), so a cached
// index gives the matches a fresh one would. Bounded (least recently used goes); an entry whose
// set is gone is dropped. Thread-safe.
class IndexCache {
 public:
  explicit IndexCache(size_t capacity) : capacity_(capacity) {}
  // The set's index, built by the first caller that needs it (others wait for that build).
  std::shared_ptr<const DescriptorIndex> Get(const std::shared_ptr<const FeatureData>& set);
  void Clear();
  size_t Size();

 private:
  struct Slot {
    std::once_flag built;
    std::shared_ptr<const DescriptorIndex> index;
  };
  struct Entry {
    const FeatureData* key;
    std::weak_ptr<const FeatureData> set;
    std::shared_ptr<Slot> slot;
  };
  size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
};

// Verified results of recently matched pairs, by (set a, set b, options): the selection checks
// consecutive picks one pair a job, and the tracks stage matches those pairs again among its
// neighbours (about half of its pairs). Matching is deterministic (seeded FLANN builds, seeded
// robust estimators), so a cached result is the one a new match would give. Bounded (least
// recently used goes); an entry whose set is gone is dropped. Thread-safe.
class PairCache {
 public:
  explicit PairCache(size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<const PairResult> Find(const std::shared_ptr<const FeatureData>& a, const std::shared_ptr<const FeatureData>& b,
                                         const MatchOptions& options);
  void Put(const std::shared_ptr<const FeatureData>& a, const std::shared_ptr<const FeatureData>& b, const MatchOptions& options,
           std::shared_ptr<const PairResult> result);
  void Clear();
  size_t Size();

 private:
  struct Entry {
    const FeatureData* a;
    const FeatureData* b;
    std::weak_ptr<const FeatureData> setA, setB;
    MatchOptions options;
    std::shared_ptr<const PairResult> result;
  };
  void DropExpired();  // with mutex_ held
  size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
};

// Every field equal (PairCache's key).
bool SameMatchOptions(const MatchOptions& x, const MatchOptions& y);

// COLMAP's brute-force rule on two sets of unit descriptor rows (CV_32F): for each row of a the
// most similar row of b (largest dot product), kept when its angle is at most maxAngleRad and
// below ratio x the second best's; mutual: b's row must pick a's row by the same rule.
// Per-thread scratch buffers, reused across calls.
std::vector<uint32_t> MatchExact(const cv::Mat& a, const cv::Mat& b, double ratio, double maxAngleRad, bool mutual);

// Unit RootSIFT rows (L1-normalised, square-rooted) of a set's SIFT descriptors, as COLMAP's
// L1_ROOT normalisation makes them; a set described as RootSIFT already is only L2-normalised.
cv::Mat UnitRootSift(const FeatureData& set);

// Ratio-tested, mutually checked matches as (index in a, index in b) pairs. For SIFT, prebuilt
// indexes of a and b may be given (else they are built for this call).
std::vector<uint32_t> MatchDescriptors(const FeatureData& a, const FeatureData& b, const MatchOptions& options,
                                       const DescriptorIndex* indexA = nullptr, const DescriptorIndex* indexB = nullptr);

// Matches and verifies one pair. Fewer than 8 matches give a result with zero inliers.
PairResult MatchAndVerify(const FeatureData& a, const FeatureData& b, const MatchOptions& options,
                          const DescriptorIndex* indexA = nullptr, const DescriptorIndex* indexB = nullptr);

// Verification alone, on given correspondences (x,y pairs of equal length); `inlierMask`, when
// given, receives one byte per correspondence (1 = F inlier). `inliers` is left empty.
PairResult VerifyMatches(const std::vector<float>& xy1, const std::vector<float>& xy2, int width, int height,
                         const MatchOptions& options, std::vector<uint8_t>* inlierMask = nullptr);

}  // namespace framesift
