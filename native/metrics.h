// Per-frame quality metrics on a gray analysis image, as plain C++ (no N-API): sharpness,
// blur, exposure, noise, features, structure, texture, a perceptual hash, and inter-frame
// motion between two consecutive frames. Every metric gives a raw value and a score in [0,1]
// whose mapping is documented next to its field below and in docs/metrics.md.
//
// Resolution: the metrics are meant to run on the decoder's analysis image (longest side
// ~640-960). Gradient-type measures are per analysis pixel (natural images are close to
// scale-invariant, so in-focus content gives similar values at any analysis size, and blur is
// judged at the resolution the selection works at); counts are turned into densities per
// 1000 pixels, motion into fractions of the image diagonal; structure, texture and the hash
// run on fixed-size downscales.
#pragma once
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

namespace framesift::metrics {

// Metric groups a caller selects (bit i = MetricName i of src/metrics.ts, same order).
enum Metric : uint32_t {
  kSharpness = 1u << 0,         // Laplacian variance, Tenengrad, 90th-percentile gradient
  kFft = 1u << 1,               // windowed FFT high-frequency energy ratio
  kMotionBlur = 1u << 2,        // gradient structure-tensor anisotropy + weakest direction
  kExposure = 1u << 3,          // mean, clipping, dynamic range, entropy, exposure score
  kNoise = 1u << 4,             // robust noise sigma (MAD of a Laplacian-of-Laplacian residual)
  kHarris = 1u << 5,            // Harris corner count
  kFast = 1u << 6,              // FAST-9 keypoint count
  kOrb = 1u << 7,               // ORB keypoint count (costly)
  kSift = 1u << 8,              // SIFT keypoint count (costly)
  kCoverage = 1u << 9,          // 8x8 grid cells holding >= 1 FAST keypoint
  kEdges = 1u << 10,            // Canny edge density
  kLines = 1u << 11,            // probabilistic Hough line count (costly)
  kLbp = 1u << 12,              // LBP histogram entropy
  kGlcm = 1u << 13,             // GLCM contrast / homogeneity (costly)
  kPhash = 1u << 14,            // 64-bit DCT perceptual hash
  kPhaseCorrelation = 1u << 15, // global translation to the previous frame
  kOpticalFlow = 1u << 16,      // sparse LK flow to the previous frame (costly)
  kFrameDiff = 1u << 17,        // mean absolute difference to the previous frame
  kCameraMotion = 1u << 18,     // sparse feature displacement + parallax to the previous frame
};
constexpr uint32_t kAllMetrics = (1u << 19) - 1;
constexpr uint32_t kCostlyMetrics = kOrb | kSift | kLines | kGlcm | kOpticalFlow;
constexpr uint32_t kFastMetrics = kAllMetrics & ~kCostlyMetrics;
constexpr uint32_t kPairMetrics = kPhaseCorrelation | kOpticalFlow | kFrameDiff | kCameraMotion;

// Camera motion (kCameraMotion): corners on a spread grid of the previous frame, tracked by
// pyramidal Lucas-Kanade to the current one and back (forward-backward check), on a copy
// halved until its longer side is at most kMotionSide (640 -> 320, 960 -> 480); results are
// in analysis pixels.
constexpr int kMotionGridCols = 12;     // grid cells across the longer side (rows: by aspect)
constexpr int kMotionSide = 480;
constexpr int kMotionFastThreshold = 20;  // as the coverage pass: its corners are reused
constexpr double kMotionFbMaxPx = 0.5;  // forward-backward disagreement that rejects a track
constexpr int kMotionMinTracks = 8;     // fewer consistent tracks: motion unknown (NaN)

// Fixed parameters of the metrics (documented in docs/metrics.md).
constexpr int kClipLow = 4;          // a pixel <= 4 counts as clipped low (shadows crushed)
constexpr int kClipHigh = 251;       // a pixel >= 251 counts as clipped high (highlights blown)
constexpr int kCoverageGrid = 8;     // coverage grid is 8x8 cells over the frame
constexpr int kCoverageFastThreshold = 20;  // FAST threshold of the fast-count and coverage pass
// FFT ratio on the centre crop of 128x128 analysis pixels (smaller for small images); phase
// correlation on the centre 256x256 averaged 2x2 down to 128x128 (range +-128 pixels).
// FFT 'high' band: above 1/16 cycles per pixel (periods under 16 px). A higher cutoff drowns in
// the 8-bit quantisation floor once blur exceeds ~2 px, and stops ranking blurrier frames.
constexpr double kFftCutoff = 1.0 / 16;
constexpr int kStructureSize = 320;  // Canny / Hough on a downscale with longest side 320
constexpr int kTextureSize = 160;    // LBP / GLCM / pHash on a downscale with longest side 160
constexpr int kMinSide = 16;         // smaller images are refused (ERR_FRAMESIFT_INVALID_ARG)

// A gray image by pointer; never owned.
struct GrayView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;
  cv::Mat Wrap() const { return cv::Mat(height, width, CV_8UC1, const_cast<uint8_t*>(data), stride); }
};

// Raw values and scores of one frame. NaN where a metric was not selected or is undefined
// (motion of the first frame without a previous one). Scores marked (quality) are higher for
// a better SfM frame; scores marked (amount) just rescale a quantity into [0,1].
struct FrameMetrics {
  // sharpness
  double laplacianVariance;  // variance of the 3x3 Laplacian, grey levels^2
  double laplacianScore;     // (quality) 1 - exp(-laplacianVariance / 200)
  double tenengrad;          // mean of gx^2+gy^2, Sobel normalised to grey levels per pixel
  double tenengradScore;     // (quality) 1 - exp(-tenengrad / 100)
  double gradientP90;        // 90th percentile of |gradient|, grey levels per pixel
  double gradientP90Score;   // (quality) 1 - exp(-gradientP90 / 15)
  // blur
  double fftHighRatio;       // energy above kFftCutoff cycles/pixel / all non-DC energy (centre
                             //   128x128 crop, Hann window)
  double fftScore;           // (quality) 1 - exp(-fftHighRatio / 0.15)
  double blurAnisotropy;     // (l1-l2)/(l1+l2) of the summed gradient structure tensor, 0..1
  double blurDirection;      // direction of least gradient energy, degrees in [0,180): 0 = +x,
                             // 90 = +y (down); a motion blur's direction
  double motionBlurScore;    // (quality) 1 - blurAnisotropy
  // exposure
  double brightnessMean;     // mean grey level 0..255
  double clippedLow;         // fraction of pixels <= kClipLow
  double clippedHigh;        // fraction of pixels >= kClipHigh
  double dynamicRange;       // 99th - 1st percentile grey level, 0..255
  double histogramEntropy;   // Shannon entropy of the 256-bin histogram, bits 0..8
  double exposureScore;      // (quality) (1 - clippedLow - clippedHigh) * (1 - (2 mean/255 - 1)^2)
                             //   * min(1, dynamicRange / 128)
  // noise
  double noiseSigma;         // estimated sigma of additive Gaussian noise, grey levels
  double noiseScore;         // (quality) exp(-noiseSigma / 8)
  // features (density = count per 1000 pixels)
  double harrisCount;        // 3x3-local maxima of the Harris response above a fixed threshold
  double harrisScore;        // (quality) 1 - exp(-density / 1)
  double fastCount;          // FAST-9, threshold 20, non-max suppressed
  double fastScore;          // (quality) 1 - exp(-density / 3)
  double orbCount;           // ORB keypoints (at most 1 per 100 pixels)
  double orbScore;           // (quality) 1 - exp(-density / 2)
  double siftCount;          // SIFT keypoints (OpenCV defaults)
  double siftScore;          // (quality) 1 - exp(-density / 2)
  double coverage;           // fraction of 8x8 grid cells with >= 1 FAST keypoint (= its score)
  // structure (on the kStructureSize downscale)
  double edgeDensity;        // fraction of Canny edge pixels (thresholds 50/150, Sobel 3, L1)
  double edgeScore;          // (quality) 1 - exp(-edgeDensity / 0.05)
  double lineCount;          // probabilistic Hough segments >= 5% of the diagonal
  double lineScore;          // (quality) 1 - exp(-lineCount / 20)
  // texture (on the kTextureSize downscale)
  double lbpEntropy;         // entropy of the 256-bin 8-neighbour LBP histogram, bits 0..8
  double lbpScore;           // (quality) lbpEntropy / 8
  double glcmContrast;       // GLCM contrast, 16 grey levels, offsets (1,0)+(0,1), symmetric
  double glcmHomogeneity;    // GLCM homogeneity sum p/(1+(i-j)^2), 0..1
  double glcmScore;          // (quality) 1 - glcmHomogeneity
  // near-duplicates
  uint64_t phash;            // DCT perceptual hash (bit 8u+v = DCT coefficient (u,v) > median)
  // motion to the previous frame
  double shiftX;             // phase-correlation translation, pixels: current(x) = previous(x - shift)
  double shiftY;
  double shiftResponse;      // phase-correlation peak response, ~0..1 (1 = perfect match)
  double shiftScore;         // (amount) 1 - exp(-(|shift| / diagonal) / 0.05)
  double flowMedian;         // median LK flow magnitude of tracked corners, pixels
  double flowTracked;        // fraction of corners (at most 200) tracked
  double flowScore;          // (amount) 1 - exp(-(flowMedian / diagonal) / 0.05)
  double frameDiff;          // mean absolute difference, grey levels
  double frameDiffScore;     // (amount) 1 - exp(-frameDiff / 10)
  // camera motion to the previous frame (kCameraMotion), analysis pixels
  double motionMedianPx;     // median displacement of the consistent tracks
  double motionP90Px;        // 90th percentile of the displacements
  double motionDx;           // median signed displacement, x and y (net direction)
  double motionDy;
  double parallaxPx;         // 75th percentile of the residuals after a RANSAC homography fit:
                             //   the displacement a pure rotation or a planar scene cannot explain
  double motionTracked;      // fraction of the grid corners tracked consistently
  double motionScore;        // (amount) 1 - exp(-(motionMedianPx / diagonal) / 0.05)

  FrameMetrics();
};

// One output field: its name (as in the JS result), its group, and where it lives.
struct FieldInfo {
  const char* name;
  uint32_t metric;
  double FrameMetrics::*member;
};
const std::vector<FieldInfo>& Fields();  // every double field, in a fixed order

// Per-thread working memory reused across frames (keeps the hot path allocation-light).
struct Scratch;
struct ScratchDeleter {
  void operator()(Scratch* s) const;
};
using ScratchPtr = std::unique_ptr<Scratch, ScratchDeleter>;
ScratchPtr NewScratch();

// Spectrum of a frame's windowed, 2x-downscaled centre crop, for phase correlation.
using Spectrum = cv::Mat;  // CV_32FC2, N x N; empty when not computed

// A frame's share of the camera-motion work, done once per frame and used by both pairs it
// belongs to: its tracking pyramid (with derivatives, for tracking in either direction) and
// its grid corners.
struct MotionPrep {
  std::vector<cv::Mat> pyramid;
  std::vector<cv::Point2f> corners;  // in tracking pixels
  int levels = 0;
  double scale = 1.0;  // analysis pixels per tracking pixel (2 when the image was halved)
  bool ready = false;
};

// Builds `prep` for a frame (kCameraMotion). Reuses the FAST keypoints MeasureFrame left in
// `scratch` when `reuseKeypoints` (same image, same frame, not halved).
void PrepareMotion(const GrayView& image, Scratch& scratch, MotionPrep& prep, bool reuseKeypoints = false);

// `prep` for a frame exactly as MeasureFrame builds it with `metrics` (the coverage pass's
// corners when FAST or coverage is selected): the previous batch's last frame must track from
// the same corners as when it was measured, or the motion would depend on batch boundaries.
void PrepareMotionAsMeasured(const GrayView& image, uint32_t metrics, Scratch& scratch, MotionPrep& prep);

// Single-frame metrics selected by `metrics`; fills `spectrum` when phase correlation is
// selected and `spectrum` is given, and `motion` when camera motion is selected and `motion`
// is given (both reused by MeasurePair).
void MeasureFrame(const GrayView& image, uint32_t metrics, Scratch& scratch, FrameMetrics& out,
                  Spectrum* spectrum, MotionPrep* motion = nullptr);

// Motion between `previous` and `current` (same size): fills the pair fields of `out`.
// The spectra and motion preps come from MeasureFrame; they are recomputed when empty / null.
void MeasurePair(const GrayView& previous, const GrayView& current, const Spectrum& previousSpectrum,
                 const Spectrum& currentSpectrum, uint32_t metrics, Scratch& scratch, FrameMetrics& out,
                 const MotionPrep* previousMotion = nullptr, const MotionPrep* currentMotion = nullptr);

// The DFT side used for an image side (largest of 128, 96, 64, 48, 32, 16, 8 that fits).
int CropSize(int side);

// Computes a frame's spectrum for phase correlation (windowed centre crop, 2x downscale).
void ComputeSpectrum(const GrayView& image, Scratch& scratch, Spectrum& out);

}  // namespace framesift::metrics
