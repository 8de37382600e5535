#include "metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// The pixel loops are written to auto-vectorise; where the CPU has AVX2 they run a second,
// AVX2 build of the same code (picked once at load time; no FMA, so the float results are the
// same as the baseline build's).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FRAMESIFT_VECTORISED __attribute__((target_clones("avx2", "default")))
#else
#define FRAMESIFT_VECTORISED
#endif

namespace framesift::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Saturating map of a non-negative quantity into [0,1): x0 is where the score reaches 0.63.
double Saturate(double x, double x0) { return std::isfinite(x) ? 1.0 - std::exp(-std::max(0.0, x) / x0) : kNaN; }

double Entropy(const uint32_t* hist, int bins, double total) {
  double h = 0;
  for (int i = 0; i < bins; ++i)
    if (hist[i]) {
      double p = hist[i] / total;
      h -= p * std::log2(p);
    }
  return h;
}

// Value at quantile q of integer samples given by their histogram, interpolated inside the bin
// (each integer v spreads uniformly over [v - 0.5, v + 0.5)).
double HistogramQuantile(const std::vector<uint32_t>& hist, double total, double q) {
  double target = q * total, cumulative = 0;
  for (size_t v = 0; v < hist.size(); ++v) {
    if (hist[v] && cumulative + hist[v] >= target) return v - 0.5 + (target - cumulative) / hist[v];
    cumulative += hist[v];
  }
  return static_cast<double>(hist.size()) - 0.5;
}

// Adds values[x0..x1) to a histogram of `bins` counters through 4 interleaved sub-histograms:
// runs of equal values (flat areas) otherwise serialise on one counter's store-to-load latency.
// `sub` has 4 * bins counters; MergeHistogram folds them into hist (exact integer sums).
template <typename T>
void AddToHistogram(const T* values, int x0, int x1, uint32_t* sub, int bins) {
  uint32_t* h0 = sub;
  uint32_t* h1 = sub + bins;
  uint32_t* h2 = sub + 2 * bins;
  uint32_t* h3 = sub + 3 * bins;
  int x = x0;
  for (; x + 4 <= x1; x += 4) {
    h0[values[x]]++;
    h1[values[x + 1]]++;
    h2[values[x + 2]]++;
    h3[values[x + 3]]++;
  }
  for (; x < x1; ++x) h0[values[x]]++;
}

void MergeHistogram(const std::vector<uint32_t>& sub, std::vector<uint32_t>& hist) {
  const size_t bins = sub.size() / 4;
  hist.assign(bins, 0);
  for (size_t i = 0; i < bins; ++i) hist[i] = sub[i] + sub[bins + i] + sub[2 * bins + i] + sub[3 * bins + i];
}

}  // namespace

FrameMetrics::FrameMetrics() {
  for (const FieldInfo& f : Fields()) this->*f.member = kNaN;
  phash = 0;
}

const std::vector<FieldInfo>& Fields() {
  static const std::vector<FieldInfo> fields = {
      {"laplacianVariance", kSharpness, &FrameMetrics::laplacianVariance},
      {"laplacianScore", kSharpness, &FrameMetrics::laplacianScore},
      {"tenengrad", kSharpness, &FrameMetrics::tenengrad},
      {"tenengradScore", kSharpness, &FrameMetrics::tenengradScore},
      {"gradientP90", kSharpness, &FrameMetrics::gradientP90},
      {"gradientP90Score", kSharpness, &FrameMetrics::gradientP90Score},
      {"fftHighRatio", kFft, &FrameMetrics::fftHighRatio},
      {"fftScore", kFft, &FrameMetrics::fftScore},
      {"blurAnisotropy", kMotionBlur, &FrameMetrics::blurAnisotropy},
      {"blurDirection", kMotionBlur, &FrameMetrics::blurDirection},
      {"motionBlurScore", kMotionBlur, &FrameMetrics::motionBlurScore},
      {"brightnessMean", kExposure, &FrameMetrics::brightnessMean},
      {"clippedLow", kExposure, &FrameMetrics::clippedLow},
      {"clippedHigh", kExposure, &FrameMetrics::clippedHigh},
      {"dynamicRange", kExposure, &FrameMetrics::dynamicRange},
      {"histogramEntropy", kExposure, &FrameMetrics::histogramEntropy},
      {"exposureScore", kExposure, &FrameMetrics::exposureScore},
      {"noiseSigma", kNoise, &FrameMetrics::noiseSigma},
      {"noiseScore", kNoise, &FrameMetrics::noiseScore},
      {"harrisCount", kHarris, &FrameMetrics::harrisCount},
      {"harrisScore", kHarris, &FrameMetrics::harrisScore},
      {"fastCount", kFast, &FrameMetrics::fastCount},
      {"fastScore", kFast, &FrameMetrics::fastScore},
      {"orbCount", kOrb, &FrameMetrics::orbCount},
      {"orbScore", kOrb, &FrameMetrics::orbScore},
      {"siftCount", kSift, &FrameMetrics::siftCount},
      {"siftScore", kSift, &FrameMetrics::siftScore},
      {"coverage", kCoverage, &FrameMetrics::coverage},
      {"edgeDensity", kEdges, &FrameMetrics::edgeDensity},
      {"edgeScore", kEdges, &FrameMetrics::edgeScore},
      {"lineCount", kLines, &FrameMetrics::lineCount},
      {"lineScore", kLines, &FrameMetrics::lineScore},
      {"lbpEntropy", kLbp, &FrameMetrics::lbpEntropy},
      {"lbpScore", kLbp, &FrameMetrics::lbpScore},
      {"glcmContrast", kGlcm, &FrameMetrics::glcmContrast},
      {"glcmHomogeneity", kGlcm, &FrameMetrics::glcmHomogeneity},
      {"glcmScore", kGlcm, &FrameMetrics::glcmScore},
      {"shiftX", kPhaseCorrelation, &FrameMetrics::shiftX},
      {"shiftY", kPhaseCorrelation, &FrameMetrics::shiftY},
      {"shiftResponse", kPhaseCorrelation, &FrameMetrics::shiftResponse},
      {"shiftScore", kPhaseCorrelation, &FrameMetrics::shiftScore},
      {"flowMedian", kOpticalFlow, &FrameMetrics::flowMedian},
      {"flowTracked", kOpticalFlow, &FrameMetrics::flowTracked},
      {"flowScore", kOpticalFlow, &FrameMetrics::flowScore},
      {"motionMedianPx", kCameraMotion, &FrameMetrics::motionMedianPx},
      {"motionP90Px", kCameraMotion, &FrameMetrics::motionP90Px},
      {"motionDx", kCameraMotion, &FrameMetrics::motionDx},
      {"motionDy", kCameraMotion, &FrameMetrics::motionDy},
      {"parallaxPx", kCameraMotion, &FrameMetrics::parallaxPx},
      {"motionTracked", kCameraMotion, &FrameMetrics::motionTracked},
      {"motionScore", kCameraMotion, &FrameMetrics::motionScore},
      {"frameDiff", kFrameDiff, &FrameMetrics::frameDiff},
      {"frameDiffScore", kFrameDiff, &FrameMetrics::frameDiffScore},
  };
  return fields;
}

struct Scratch {
  // gradient pass
  std::vector<uint32_t> gradientHist;  // |gradient| in bins of 0.25 grey levels per pixel
  std::vector<uint32_t> residualHist;  // |Laplacian-of-Laplacian residual|, integer levels
  std::vector<uint32_t> subHist;       // 4 interleaved sub-histograms being filled
  std::vector<uint32_t> subHist2;
  std::vector<int16_t> rowGx, rowGy, rowLap;
  std::vector<int32_t> rowA, rowB, vertXX, vertYY, vertXY;
  cv::Mat harrisXX, harrisYY, harrisXY, harrisResponse;  // 3-row rings: CV_32S products, CV_32F response
  // FFT
  int windowSize = 0;
  cv::Mat window, fftInput, spectrumTmp, motionCrop, cross, correlation;
  // features and structure
  std::vector<cv::KeyPoint> keypoints;
  int orbFeatures = 0;
  cv::Ptr<cv::ORB> orb;
  cv::Ptr<cv::SIFT> sift;
  cv::Mat structure, structureOwned, edges;
  std::vector<cv::Vec4i> lines;
  // texture and hash
  cv::Mat small, hash32, hashFloat, hashDct;
  bool smallReady = false;
  // motion
  std::vector<cv::Point2f> corners, tracked;
  std::vector<uint8_t> status;
  std::vector<float> flowError, magnitudes;
  // camera motion
  cv::Mat motionPrev, motionHalf;  // downscaled copies for tracking
  std::vector<cv::Point2f> forward, backward;
  std::vector<uint8_t> statusForward, statusBackward;
  std::vector<float> errorForward, errorBackward, gridResponse, residuals, dxs, dys;
  cv::Mat inlierMask;
};

void ScratchDeleter::operator()(Scratch* s) const { delete s; }
ScratchPtr NewScratch() { return ScratchPtr(new Scratch()); }

namespace {

// Histogram bins of |g| / 8 in steps of 0.25 grey levels per pixel: floor(sqrt(gx^2+gy^2) / 2).
// SSE2 by hand because std::sqrt keeps the loop scalar (errno) without -fno-math-errno;
// sqrtps and sqrtss round the same, so both paths give identical bins.
void GradientBins(const int16_t* gx, const int16_t* gy, int32_t* bins, int x0, int x1) {
  int x = x0;
#if defined(__SSE2__)
  const __m128 half = _mm_set1_ps(0.5f);
  for (; x + 8 <= x1; x += 8) {
    const __m128i vx = _mm_loadu_si128(reinterpret_cast<const __m128i*>(gx + x));
    const __m128i vy = _mm_loadu_si128(reinterpret_cast<const __m128i*>(gy + x));
    const __m128i lo = _mm_unpacklo_epi16(vx, vy), hi = _mm_unpackhi_epi16(vx, vy);
    const __m128 m0 = _mm_cvtepi32_ps(_mm_madd_epi16(lo, lo)), m1 = _mm_cvtepi32_ps(_mm_madd_epi16(hi, hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bins + x), _mm_cvttps_epi32(_mm_mul_ps(_mm_sqrt_ps(m0), half)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bins + x + 4), _mm_cvttps_epi32(_mm_mul_ps(_mm_sqrt_ps(m1), half)));
  }
#endif
  for (; x < x1; ++x) bins[x] = static_cast<int32_t>(std::sqrt(static_cast<float>(gx[x] * gx[x] + gy[x] * gy[x])) * 0.5f);
}

// Harris corners, streamed row by row inside the gradient pass through 3-row rings: the
// tensor products of row y, the response of row y-1 (3x3 block sums), the local maxima of
// row y-2. Products are in (8 x grey levels/pixel)^2, so the response of the block-mean
// tensor in (grey levels/pixel)^4 is R / (64 * 9)^2.
constexpr float kHarrisThreshold = 1000.0f * (64.0f * 9) * (64.0f * 9);  // 1000 (grey levels/pixel)^4
constexpr float kHarrisK = 0.04f;

void HarrisZeroProducts(Scratch& s, int y, int w) {
  for (cv::Mat* m : {&s.harrisXX, &s.harrisYY, &s.harrisXY}) m->row(y % 3).setTo(0);
}

FRAMESIFT_VECTORISED void HarrisProducts(Scratch& s, int y, int w) {
  const int16_t* __restrict gx = s.rowGx.data();
  const int16_t* __restrict gy = s.rowGy.data();
  int32_t* __restrict pxx = s.harrisXX.ptr<int32_t>(y % 3);
  int32_t* __restrict pyy = s.harrisYY.ptr<int32_t>(y % 3);
  int32_t* __restrict pxy = s.harrisXY.ptr<int32_t>(y % 3);
  pxx[0] = pyy[0] = pxy[0] = pxx[w - 1] = pyy[w - 1] = pxy[w - 1] = 0;
  for (int x = 1; x < w - 1; ++x) {
    pxx[x] = gx[x] * gx[x];
    pyy[x] = gy[x] * gy[x];
    pxy[x] = gx[x] * gy[x];
  }
}

FRAMESIFT_VECTORISED void SumRows(const cv::Mat& ring, int32_t* __restrict out, int w) {
  const int32_t* __restrict a = ring.ptr<int32_t>(0);
  const int32_t* __restrict b = ring.ptr<int32_t>(1);
  const int32_t* __restrict c = ring.ptr<int32_t>(2);
  for (int x = 0; x < w; ++x) out[x] = a[x] + b[x] + c[x];
}

FRAMESIFT_VECTORISED void HarrisResponseRow(Scratch& s, int y, int w) {
  // The ring holds exactly rows y-1, y, y+1 (in some order): their sum is order-free.
  SumRows(s.harrisXX, s.vertXX.data(), w);
  SumRows(s.harrisYY, s.vertYY.data(), w);
  SumRows(s.harrisXY, s.vertXY.data(), w);
  const int32_t* __restrict vxx = s.vertXX.data();
  const int32_t* __restrict vyy = s.vertYY.data();
  const int32_t* __restrict vxy = s.vertXY.data();
  float* __restrict r = s.harrisResponse.ptr<float>(y % 3);
  r[0] = r[w - 1] = 0;
  for (int x = 1; x < w - 1; ++x) {
    const float a = static_cast<float>(vxx[x - 1] + vxx[x] + vxx[x + 1]);
    const float c = static_cast<float>(vyy[x - 1] + vyy[x] + vyy[x + 1]);
    const float b = static_cast<float>(vxy[x - 1] + vxy[x] + vxy[x + 1]);
    const float t = a + c;
    r[x] = a * c - b * b - kHarrisK * t * t;
  }
}

// Local maxima of row y: strictly above the neighbours before it in raster order and not
// below the ones after, so a plateau (e.g. 4 equal pixels around a checkerboard corner)
// counts once.
// Branch-free: on grain or dense texture most of a row passes the threshold, and a branch per
// pixel mispredicted about half the time (1 ms a 640x360 frame); the comparisons are vectorised.
FRAMESIFT_VECTORISED int HarrisMaximaRow(Scratch& s, int y, int w) {
  const float* up = s.harrisResponse.ptr<float>((y - 1) % 3);
  const float* row = s.harrisResponse.ptr<float>(y % 3);
  const float* down = s.harrisResponse.ptr<float>((y + 1) % 3);
  int count = 0;
  for (int x = 2; x < w - 2; ++x) {
    const float v = row[x];
    count += (v > kHarrisThreshold) & (v > up[x - 1]) & (v > up[x]) & (v > up[x + 1]) & (v > row[x - 1]) &
             (v >= row[x + 1]) & (v >= down[x - 1]) & (v >= down[x]) & (v >= down[x + 1]);
  }
  return count;
}

// One pass over the interior rows for everything built on 3x3 neighbourhoods: Laplacian
// variance, Tenengrad, the gradient histogram, the structure tensor, the noise residual and
// the Harris tensor products. Each row is computed into small int16/int32 row buffers by
// branch-free loops the compiler vectorises; only the two histograms are scalar. Integer
// sums are exact, so results are bit-identical whatever the build or the schedule.
FRAMESIFT_VECTORISED void GradientPass(const GrayView& img, uint32_t metrics, Scratch& s, FrameMetrics& out) {
  const bool sharp = metrics & kSharpness, tensor = metrics & kMotionBlur, noise = metrics & kNoise,
             harris = metrics & kHarris;
  const int w = img.width, h = img.height;
  // |r| is clamped to 1023: its median is ~4 sigma, so sigma up to ~250 is unaffected.
  constexpr int kGradientBins = 728, kResidualBins = 1024;
  if (sharp) s.subHist.assign(4 * kGradientBins, 0);
  if (noise) s.subHist2.assign(4 * kResidualBins, 0);
  int harrisCount = 0;
  if (harris) {
    // Ring buffers of 3 rows (products, responses) instead of full-size maps.
    for (cv::Mat* m : {&s.harrisXX, &s.harrisYY, &s.harrisXY}) m->create(3, w, CV_32S);
    s.harrisResponse.create(3, w, CV_32F);
    s.harrisResponse.setTo(0);
    s.vertXX.resize(w);
    s.vertYY.resize(w);
    s.vertXY.resize(w);
    HarrisZeroProducts(s, 0, w);
  }
  s.rowGx.resize(w);
  s.rowGy.resize(w);
  s.rowA.resize(w);
  s.rowB.resize(w);
  s.rowLap.resize(w);
  int16_t* __restrict gxRow = s.rowGx.data();
  int16_t* __restrict gyRow = s.rowGy.data();
  int32_t* __restrict aRow = s.rowA.data();
  int32_t* __restrict bRow = s.rowB.data();
  // Row chunks of 512 pixels keep the int32 partial sums below 2^31 (|g|^2 <= 2 * 1020^2).
  constexpr int kChunk = 512;
  int64_t sumLap = 0, sumLap2 = 0, sumG2 = 0, sxx = 0, syy = 0, sxy = 0;
  const int x0 = 1, x1 = w - 1;  // interior columns [x0, x1)
  for (int y = 1; y < h - 1; ++y) {
    const uint8_t* __restrict r0 = img.data + static_cast<size_t>(y - 1) * img.stride;
    const uint8_t* __restrict r1 = r0 + img.stride;
    const uint8_t* __restrict r2 = r1 + img.stride;
    for (int x = x0; x < x1; ++x) {
      gxRow[x] = static_cast<int16_t>((r0[x + 1] + 2 * r1[x + 1] + r2[x + 1]) - (r0[x - 1] + 2 * r1[x - 1] + r2[x - 1]));
      gyRow[x] = static_cast<int16_t>((r2[x - 1] + 2 * r2[x] + r2[x + 1]) - (r0[x - 1] + 2 * r0[x] + r0[x + 1]));
    }
    if (sharp) {
      int16_t* __restrict lapRow = s.rowLap.data();
      for (int x = x0; x < x1; ++x)
        lapRow[x] = static_cast<int16_t>(r0[x] + r1[x - 1] + r1[x + 1] + r2[x] - 4 * r1[x]);
      for (int c = x0; c < x1; c += kChunk) {
        const int end = std::min(x1, c + kChunk);
        int32_t lap = 0, lap2 = 0, g2 = 0;
        for (int x = c; x < end; ++x) {
          lap += lapRow[x];
          lap2 += lapRow[x] * lapRow[x];
          g2 += gxRow[x] * gxRow[x] + gyRow[x] * gyRow[x];
        }
        sumLap += lap;
        sumLap2 += lap2;
        sumG2 += g2;
      }
      GradientBins(gxRow, gyRow, aRow, x0, x1);
      AddToHistogram(aRow, x0, x1, s.subHist.data(), kGradientBins);
    }
    if (tensor) {
      for (int c = x0; c < x1; c += kChunk) {
        const int end = std::min(x1, c + kChunk);
        int32_t xx = 0, yy = 0, xy = 0;
        for (int x = c; x < end; ++x) {
          xx += gxRow[x] * gxRow[x];
          yy += gyRow[x] * gyRow[x];
          xy += gxRow[x] * gyRow[x];
        }
        sxx += xx;
        syy += yy;
        sxy += xy;
      }
    }
    if (noise) {
      for (int x = x0; x < x1; ++x) {
        const int32_t r = (r0[x - 1] + r0[x + 1] + r2[x - 1] + r2[x + 1]) - 2 * (r0[x] + r1[x - 1] + r1[x + 1] + r2[x]) + 4 * r1[x];
        bRow[x] = std::min(r < 0 ? -r : r, kResidualBins - 1);
      }
      AddToHistogram(bRow, x0, x1, s.subHist2.data(), kResidualBins);
    }
    if (harris) {
      HarrisProducts(s, y, w);
      if (y >= 2) HarrisResponseRow(s, y - 1, w);
      if (y >= 4) harrisCount += HarrisMaximaRow(s, y - 2, w);
    }
  }
  if (harris) {
    // Row h-1 has no gradient: zero products, then the last response row and maxima row.
    HarrisZeroProducts(s, h - 1, w);
    HarrisResponseRow(s, h - 2, w);
    if (h - 3 >= 2) harrisCount += HarrisMaximaRow(s, h - 3, w);
    out.harrisCount = harrisCount;
    out.harrisScore = Saturate(harrisCount * 1000.0 / (static_cast<double>(w) * h), 1.0);
  }
  const double n = static_cast<double>(w - 2) * (h - 2);
  if (sharp) MergeHistogram(s.subHist, s.gradientHist);
  if (noise) MergeHistogram(s.subHist2, s.residualHist);
  if (sharp) {
    const double meanLap = sumLap / n;
    out.laplacianVariance = sumLap2 / n - meanLap * meanLap;
    out.laplacianScore = Saturate(out.laplacianVariance, 200);
    out.tenengrad = sumG2 / n / 64.0;
    out.tenengradScore = Saturate(out.tenengrad, 100);
    double target = 0.9 * n, cumulative = 0;
    size_t bin = 0;
    for (; bin < s.gradientHist.size(); ++bin) {
      if (s.gradientHist[bin] && cumulative + s.gradientHist[bin] >= target) break;
      cumulative += s.gradientHist[bin];
    }
    const double fraction = bin < s.gradientHist.size() ? (target - cumulative) / s.gradientHist[bin] : 0;
    out.gradientP90 = (bin + fraction) * 0.25;
    out.gradientP90Score = Saturate(out.gradientP90, 15);
  }
  if (tensor) {
    // Eigen-decomposition of the 2x2 tensor [sxx sxy; sxy syy]: the eigenvector of the smaller
    // eigenvalue is the direction with the least gradient energy (a motion blur's direction).
    const double a = static_cast<double>(sxx), c = static_cast<double>(syy), b = static_cast<double>(sxy);
    const double trace = a + c, diff = std::sqrt((a - c) * (a - c) + 4 * b * b);
    out.blurAnisotropy = trace > 0 ? diff / trace : 0;
    // The strongest gradient direction is at 0.5*atan2(2b, a-c); the weakest is 90 deg off.
    const double strongest = 0.5 * std::atan2(2 * b, a - c) * 180.0 / M_PI;
    out.blurDirection = std::fmod(strongest + 90.0 + 360.0, 180.0);
    out.motionBlurScore = 1.0 - out.blurAnisotropy;
  }
  if (noise) {
    // Median absolute residual of the [1 -2 1]x[1 -2 1] mask (norm 6): robust to edges and
    // texture, which make few large residuals; sigma = median / (0.6745 * 6).
    out.noiseSigma = std::max(0.0, HistogramQuantile(s.residualHist, n, 0.5)) / (0.6745 * 6.0);
    out.noiseScore = std::exp(-out.noiseSigma / 8.0);
  }
}

void Exposure(const GrayView& img, FrameMetrics& out) {
  std::array<uint32_t, 4 * 256> sub{};
  for (int y = 0; y < img.height; ++y)
    AddToHistogram(img.data + static_cast<size_t>(y) * img.stride, 0, img.width, sub.data(), 256);
  std::array<uint32_t, 256> hist;
  for (int v = 0; v < 256; ++v) hist[v] = sub[v] + sub[256 + v] + sub[512 + v] + sub[768 + v];
  const double n = static_cast<double>(img.width) * img.height;
  uint64_t sum = 0, low = 0, high = 0;
  for (int v = 0; v < 256; ++v) {
    sum += static_cast<uint64_t>(v) * hist[v];
    if (v <= kClipLow) low += hist[v];
    if (v >= kClipHigh) high += hist[v];
  }
  auto percentile = [&](double q) {
    const double target = q * n;
    uint64_t cumulative = 0;
    for (int v = 0; v < 256; ++v) {
      cumulative += hist[v];
      if (cumulative >= target) return v;
    }
    return 255;
  };
  out.brightnessMean = sum / n;
  out.clippedLow = low / n;
  out.clippedHigh = high / n;
  out.dynamicRange = percentile(0.99) - percentile(0.01);
  out.histogramEntropy = Entropy(hist.data(), 256, n);
  const double midness = 1.0 - std::pow(2.0 * out.brightnessMean / 255.0 - 1.0, 2);
  out.exposureScore = std::clamp((1.0 - out.clippedLow - out.clippedHigh) * midness *
                                     std::min(1.0, out.dynamicRange / 128.0),
                                 0.0, 1.0);
}

// The fixed-size downscale used by the texture metrics and the hash.
const cv::Mat& SmallImage(const GrayView& img, Scratch& s) {
  if (s.smallReady) return s.small;
  s.smallReady = true;
  const double scale = static_cast<double>(kTextureSize) / std::max(img.width, img.height);
  if (scale >= 1) {
    img.Wrap().copyTo(s.small);
  } else {
    cv::Size size(std::max(8, static_cast<int>(std::lround(img.width * scale))),
                  std::max(8, static_cast<int>(std::lround(img.height * scale))));
    cv::resize(img.Wrap(), s.small, size, 0, 0, cv::INTER_AREA);
  }
  return s.small;
}

// The fixed-size downscale used by the structure metrics (the image itself when small enough).
const cv::Mat& StructureImage(const GrayView& img, Scratch& s) {
  const double scale = static_cast<double>(kStructureSize) / std::max(img.width, img.height);
  if (scale >= 1) {
    s.structure = img.Wrap();
  } else {
    cv::Size size(std::max(8, static_cast<int>(std::lround(img.width * scale))),
                  std::max(8, static_cast<int>(std::lround(img.height * scale))));
    cv::resize(img.Wrap(), s.structureOwned, size, 0, 0, cv::INTER_AREA);
    s.structure = s.structureOwned;
  }
  return s.structure;
}

void Lbp(const cv::Mat& small, FrameMetrics& out) {
  std::array<uint32_t, 256> hist{};
  for (int y = 1; y < small.rows - 1; ++y) {
    const uint8_t* r0 = small.ptr<uint8_t>(y - 1);
    const uint8_t* r1 = small.ptr<uint8_t>(y);
    const uint8_t* r2 = small.ptr<uint8_t>(y + 1);
    for (int x = 1; x < small.cols - 1; ++x) {
      const int c = r1[x];
      const int code = (r0[x - 1] >= c) | (r0[x] >= c) << 1 | (r0[x + 1] >= c) << 2 | (r1[x + 1] >= c) << 3 |
                       (r2[x + 1] >= c) << 4 | (r2[x] >= c) << 5 | (r2[x - 1] >= c) << 6 | (r1[x - 1] >= c) << 7;
      hist[code]++;
    }
  }
  out.lbpEntropy = Entropy(hist.data(), 256, static_cast<double>(small.cols - 2) * (small.rows - 2));
  out.lbpScore = out.lbpEntropy / 8.0;
}

void Glcm(const cv::Mat& small, FrameMetrics& out) {
  constexpr int kLevels = 16;
  std::array<uint32_t, kLevels * kLevels> counts{};
  for (int y = 0; y < small.rows; ++y) {
    const uint8_t* row = small.ptr<uint8_t>(y);
    const uint8_t* below = y + 1 < small.rows ? small.ptr<uint8_t>(y + 1) : nullptr;
    for (int x = 0; x < small.cols; ++x) {
      const int i = row[x] >> 4;
      if (x + 1 < small.cols) {
        const int j = row[x + 1] >> 4;
        counts[i * kLevels + j]++;
        counts[j * kLevels + i]++;
      }
      if (below) {
        const int j = below[x] >> 4;
        counts[i * kLevels + j]++;
        counts[j * kLevels + i]++;
      }
    }
  }
  double total = 0, contrast = 0, homogeneity = 0;
  for (uint32_t c : counts) total += c;
  for (int i = 0; i < kLevels; ++i)
    for (int j = 0; j < kLevels; ++j) {
      const double p = counts[i * kLevels + j] / total;
      const double d2 = static_cast<double>((i - j) * (i - j));
      contrast += p * d2;
      homogeneity += p / (1.0 + d2);
    }
  out.glcmContrast = contrast;
  out.glcmHomogeneity = homogeneity;
  out.glcmScore = 1.0 - homogeneity;
}

void PerceptualHash(const cv::Mat& small, Scratch& s, FrameMetrics& out) {
  cv::resize(small, s.hash32, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  s.hash32.convertTo(s.hashFloat, CV_32F);
  cv::dct(s.hashFloat, s.hashDct);
  std::array<float, 64> block;
  for (int u = 0; u < 8; ++u)
    for (int v = 0; v < 8; ++v) block[u * 8 + v] = s.hashDct.at<float>(u, v);
  std::array<float, 63> ac;
  std::copy(block.begin() + 1, block.end(), ac.begin());
  std::nth_element(ac.begin(), ac.begin() + 31, ac.end());
  const float median = ac[31];
  uint64_t hash = 0;
  for (int bit = 0; bit < 64; ++bit)
    if (block[bit] > median) hash |= uint64_t{1} << bit;
  out.phash = hash;
}

}  // namespace

int CropSize(int side) {
  static constexpr int kSizes[] = {128, 96, 64, 48, 32, 16, 8};
  for (int size : kSizes)
    if (size <= side) return size;
  return 0;
}

namespace {

// Mean-removed, Hann-windowed DFT (full complex output) of `crop`, which must be n x n.
void WindowedDft(const cv::Mat& crop, Scratch& s, cv::Mat& out) {
  const int n = crop.rows;
  if (s.windowSize != n) {
    cv::createHanningWindow(s.window, cv::Size(n, n), CV_32F);
    s.windowSize = n;
  }
  crop.convertTo(s.fftInput, CV_32F);
  const double mean = cv::mean(s.fftInput)[0];
  s.fftInput -= mean;
  cv::multiply(s.fftInput, s.window, s.fftInput);
  cv::dft(s.fftInput, out, cv::DFT_COMPLEX_OUTPUT);
}

void FftRatio(const GrayView& img, Scratch& s, FrameMetrics& out) {
  const int n = CropSize(std::min(img.width, img.height));
  const cv::Rect crop((img.width - n) / 2, (img.height - n) / 2, n, n);
  WindowedDft(img.Wrap()(crop), s, s.spectrumTmp);
  double high = 0, total = 0;
  for (int y = 0; y < n; ++y) {
    const float* row = s.spectrumTmp.ptr<float>(y);
    const double fy = static_cast<double>(std::min(y, n - y)) / n;
    for (int x = 0; x < n; ++x) {
      if (x == 0 && y == 0) continue;
      const double fx = static_cast<double>(std::min(x, n - x)) / n;
      const double energy = static_cast<double>(row[2 * x]) * row[2 * x] + static_cast<double>(row[2 * x + 1]) * row[2 * x + 1];
      total += energy;
      if (fx * fx + fy * fy > kFftCutoff * kFftCutoff) high += energy;
    }
  }
  out.fftHighRatio = total > 0 ? high / total : 0;
  out.fftScore = Saturate(out.fftHighRatio, 0.15);
}

}  // namespace

void ComputeSpectrum(const GrayView& img, Scratch& s, Spectrum& out) {
  // Centre crop of 2n x 2n, averaged 2x2 down to n x n: the phase correlation sees twice
  // the range (+-n analysis pixels) for the cost of an n x n DFT.
  const int n = CropSize(std::min(img.width, img.height) / 2);
  const cv::Rect crop((img.width - 2 * n) / 2, (img.height - 2 * n) / 2, 2 * n, 2 * n);
  cv::resize(img.Wrap()(crop), s.motionCrop, cv::Size(n, n), 0, 0, cv::INTER_AREA);
  WindowedDft(s.motionCrop, s, out);
}

void MeasureFrame(const GrayView& img, uint32_t metrics, Scratch& s, FrameMetrics& out, Spectrum* spectrum,
                  MotionPrep* motion) {
  const cv::Mat image = img.Wrap();
  const double area = static_cast<double>(img.width) * img.height;
  s.smallReady = false;  // keep the buffer, recompute its pixels for this frame

  if (metrics & (kSharpness | kMotionBlur | kNoise | kHarris)) GradientPass(img, metrics, s, out);
  if (metrics & kExposure) Exposure(img, out);

  if (metrics & kFft) FftRatio(img, s, out);
  if ((metrics & kPhaseCorrelation) && spectrum) ComputeSpectrum(img, s, *spectrum);

  if (metrics & (kFast | kCoverage)) {
    cv::FAST(image, s.keypoints, kCoverageFastThreshold, true, cv::FastFeatureDetector::TYPE_9_16);
    if (metrics & kFast) {
      out.fastCount = static_cast<double>(s.keypoints.size());
      out.fastScore = Saturate(out.fastCount * 1000.0 / area, 3.0);
    }
    if (metrics & kCoverage) {
      std::array<uint8_t, kCoverageGrid * kCoverageGrid> cells{};
      for (const cv::KeyPoint& kp : s.keypoints) {
        const int cx = std::min(kCoverageGrid - 1, static_cast<int>(kp.pt.x * kCoverageGrid / img.width));
        const int cy = std::min(kCoverageGrid - 1, static_cast<int>(kp.pt.y * kCoverageGrid / img.height));
        cells[cy * kCoverageGrid + cx] = 1;
      }
      int filled = 0;
      for (uint8_t c : cells) filled += c;
      out.coverage = static_cast<double>(filled) / cells.size();
    }
  }
  // Camera motion reuses the FAST corners of the coverage pass (same image, threshold 20).
  if ((metrics & kCameraMotion) && motion) PrepareMotion(img, s, *motion, (metrics & (kFast | kCoverage)) != 0);
  if (metrics & kOrb) {
    const int features = std::max(500, static_cast<int>(area / 100));
    if (!s.orb || s.orbFeatures != features) {
      s.orb = cv::ORB::create(features);
      s.orbFeatures = features;
    }
    s.orb->detect(image, s.keypoints);
    out.orbCount = static_cast<double>(s.keypoints.size());
    out.orbScore = Saturate(out.orbCount * 1000.0 / area, 2.0);
  }
  if (metrics & kSift) {
    if (!s.sift) s.sift = cv::SIFT::create();
    s.sift->detect(image, s.keypoints);
    out.siftCount = static_cast<double>(s.keypoints.size());
    out.siftScore = Saturate(out.siftCount * 1000.0 / area, 2.0);
  }
  if (metrics & (kEdges | kLines)) {
    // On a fixed-size downscale: an edge's pixel count grows with the linear size and the
    // frame's with the area, so a density at the analysis size would depend on it.
    const cv::Mat& structure = StructureImage(img, s);
    cv::Canny(structure, s.edges, 50, 150, 3, false);
    if (metrics & kEdges) {
      out.edgeDensity = cv::countNonZero(s.edges) / static_cast<double>(structure.total());
      out.edgeScore = Saturate(out.edgeDensity, 0.05);
    }
    if (metrics & kLines) {
      const double diagonal = std::hypot(structure.cols, structure.rows);
      cv::HoughLinesP(s.edges, s.lines, 1, CV_PI / 180, 40, 0.05 * diagonal, std::max(2.0, 0.005 * diagonal));
      out.lineCount = static_cast<double>(s.lines.size());
      out.lineScore = Saturate(out.lineCount, 20);
    }
  }
  if (metrics & kLbp) Lbp(SmallImage(img, s), out);
  if (metrics & kGlcm) Glcm(SmallImage(img, s), out);
  if (metrics & kPhash) PerceptualHash(SmallImage(img, s), s, out);
}

namespace {

// Value at quantile q of v (reorders v; v not empty).
float Quantile(std::vector<float>& v, double q) {
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// The strongest corner of each cell of a grid over the image (from `keypoints`): corners
// spread over the whole view, so a textured object in one corner does not speak for the
// camera's motion.
void GridCorners(const cv::Mat& image, const std::vector<cv::KeyPoint>& keypoints, double keypointScale, Scratch& s,
                 std::vector<cv::Point2f>& corners) {
  const int longer = std::max(image.cols, image.rows);
  const int cell = std::max(8, (longer + kMotionGridCols - 1) / kMotionGridCols);
  const int cols = (image.cols + cell - 1) / cell, rows = (image.rows + cell - 1) / cell;
  corners.assign(static_cast<size_t>(cols) * rows, cv::Point2f(-1, -1));
  s.gridResponse.assign(corners.size(), 0.0f);
  // LK needs its window inside the image: keep corners at least 8 px from the border.
  const float margin = 8.0f;
  for (const cv::KeyPoint& kp : keypoints) {
    const cv::Point2f p(static_cast<float>(kp.pt.x * keypointScale), static_cast<float>(kp.pt.y * keypointScale));
    if (p.x < margin || p.y < margin || p.x >= image.cols - margin || p.y >= image.rows - margin) continue;
    const size_t c = static_cast<size_t>(p.y / cell) * cols + static_cast<size_t>(p.x / cell);
    if (kp.response > s.gridResponse[c]) s.gridResponse[c] = kp.response, corners[c] = p;
  }
  size_t kept = 0;
  for (const cv::Point2f& p : corners)
    if (p.x >= 0) corners[kept++] = p;
  corners.resize(kept);
}

const cv::Size kMotionWindow(11, 11);
constexpr int kMotionLevels = 2;  // with the window: +-35 tracking pixels per frame

// Sparse camera motion between two prepared frames (kCameraMotion fields of `out`).
void CameraMotion(const MotionPrep& prev, const MotionPrep& cur, const cv::Size& size, Scratch& s, FrameMetrics& out) {
  const size_t n = prev.corners.size();
  out.motionTracked = 0;
  if (n < static_cast<size_t>(kMotionMinTracks) || prev.levels != cur.levels) return;  // too plain to tell: NaN
  const double scale = prev.scale;
  const cv::TermCriteria stop(cv::TermCriteria::COUNT | cv::TermCriteria::EPS, 10, 0.03);
  cv::calcOpticalFlowPyrLK(prev.pyramid, cur.pyramid, prev.corners, s.forward, s.statusForward, s.errorForward,
                           kMotionWindow, prev.levels, stop);
  s.backward = prev.corners;  // start the way back at the corners (the forward flow reversed)
  cv::calcOpticalFlowPyrLK(cur.pyramid, prev.pyramid, s.forward, s.backward, s.statusBackward, s.errorBackward,
                           kMotionWindow, prev.levels, stop, cv::OPTFLOW_USE_INITIAL_FLOW);
  s.corners.clear();
  s.tracked.clear();
  s.magnitudes.clear();
  s.dxs.clear();
  s.dys.clear();
  for (size_t i = 0; i < n; ++i) {
    if (!s.statusForward[i] || !s.statusBackward[i]) continue;
    const cv::Point2f back = s.backward[i] - prev.corners[i];
    if (back.dot(back) > kMotionFbMaxPx * kMotionFbMaxPx) continue;
    const cv::Point2f d = s.forward[i] - prev.corners[i];
    s.corners.push_back(prev.corners[i]);
    s.tracked.push_back(s.forward[i]);
    s.magnitudes.push_back(static_cast<float>(std::hypot(d.x, d.y) * scale));
    s.dxs.push_back(static_cast<float>(d.x * scale));
    s.dys.push_back(static_cast<float>(d.y * scale));
  }
  const size_t m = s.magnitudes.size();
  out.motionTracked = static_cast<double>(m) / n;
  if (m < static_cast<size_t>(kMotionMinTracks)) return;
  out.motionMedianPx = Quantile(s.magnitudes, 0.5);
  out.motionP90Px = Quantile(s.magnitudes, 0.9);
  out.motionDx = Quantile(s.dxs, 0.5);
  out.motionDy = Quantile(s.dys, 0.5);
  out.motionScore = Saturate(out.motionMedianPx / std::hypot(size.width, size.height), 0.05);
  // Parallax: what a homography (pure rotation, or a planar scene) leaves unexplained.
  // Inlier threshold: 1 analysis pixel, in tracking pixels.
  const cv::Mat h = cv::findHomography(s.corners, s.tracked, cv::RANSAC, 1.0 / scale, s.inlierMask, 500, 0.995);
  if (h.empty()) return;
  const double* H = h.ptr<double>();
  s.residuals.clear();
  for (size_t i = 0; i < m; ++i) {
    const cv::Point2f p = s.corners[i];
    const double w = H[6] * p.x + H[7] * p.y + H[8];
    if (std::abs(w) < 1e-12) continue;
    const double x = (H[0] * p.x + H[1] * p.y + H[2]) / w, y = (H[3] * p.x + H[4] * p.y + H[5]) / w;
    s.residuals.push_back(static_cast<float>(std::hypot(x - s.tracked[i].x, y - s.tracked[i].y) * scale));
  }
  if (!s.residuals.empty()) out.parallaxPx = Quantile(s.residuals, 0.75);
}

}  // namespace

void PrepareMotion(const GrayView& image, Scratch& s, MotionPrep& prep, bool reuseKeypoints) {
  // Track on a copy of at most kMotionSide pixels: the pyramid is most of the cost, and LK
  // stays sub-pixel there (results are scaled back to analysis pixels).
  const cv::Mat wrapped = image.Wrap();
  const cv::Mat* track = &wrapped;
  cv::Mat* buffers[2] = {&s.motionPrev, &s.motionHalf};
  prep.scale = 1.0;
  for (int b = 0; std::max(track->cols, track->rows) > kMotionSide; b ^= 1) {
    cv::pyrDown(*track, *buffers[b]);
    track = buffers[b];
    prep.scale *= 2.0;
  }
  // The coverage pass's corners (full analysis size) where there are some, else the copy's own.
  if (reuseKeypoints) {
    GridCorners(*track, s.keypoints, 1.0 / prep.scale, s, prep.corners);
  } else {
    cv::FAST(*track, s.keypoints, kMotionFastThreshold, true, cv::FastFeatureDetector::TYPE_9_16);
    GridCorners(*track, s.keypoints, 1.0, s, prep.corners);
  }
  prep.levels = cv::buildOpticalFlowPyramid(*track, prep.pyramid, kMotionWindow, kMotionLevels, true);
  prep.ready = true;
}

void PrepareMotionAsMeasured(const GrayView& image, uint32_t metrics, Scratch& s, MotionPrep& prep) {
  const bool reuse = (metrics & (kFast | kCoverage)) != 0;
  if (reuse) cv::FAST(image.Wrap(), s.keypoints, kCoverageFastThreshold, true, cv::FastFeatureDetector::TYPE_9_16);
  PrepareMotion(image, s, prep, reuse);
}

void MeasurePair(const GrayView& previous, const GrayView& current, const Spectrum& previousSpectrum,
                 const Spectrum& currentSpectrum, uint32_t metrics, Scratch& s, FrameMetrics& out,
                 const MotionPrep* previousMotion, const MotionPrep* currentMotion) {
  if (previous.width != current.width || previous.height != current.height) return;  // NaN: sizes differ
  const double diagonal = std::hypot(current.width, current.height);

  if (metrics & kPhaseCorrelation) {
    Spectrum prevLocal, curLocal;
    const Spectrum* fp = &previousSpectrum;
    const Spectrum* fc = &currentSpectrum;
    if (fp->empty()) ComputeSpectrum(previous, s, prevLocal), fp = &prevLocal;
    if (fc->empty()) ComputeSpectrum(current, s, curLocal), fc = &curLocal;
    if (!fp->empty() && !fc->empty()) {
      const int n = fc->rows;
      // Normalised cross-power spectrum Fc * conj(Fp) / |Fc * conj(Fp)|: its inverse is a
      // peak at the translation of the current frame relative to the previous one.
      s.cross.create(n, n, CV_32FC2);
      for (int y = 0; y < n; ++y) {
        const float* c = fc->ptr<float>(y);
        const float* p = fp->ptr<float>(y);
        float* o = s.cross.ptr<float>(y);
        for (int x = 0; x < n; ++x) {
          const float re = c[2 * x] * p[2 * x] + c[2 * x + 1] * p[2 * x + 1];
          const float im = c[2 * x + 1] * p[2 * x] - c[2 * x] * p[2 * x + 1];
          const float mag = std::sqrt(re * re + im * im);
          const float inv = mag > 1e-12f ? 1.0f / mag : 0.0f;
          o[2 * x] = re * inv;
          o[2 * x + 1] = im * inv;
        }
      }
      cv::dft(s.cross, s.correlation, cv::DFT_INVERSE | cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
      cv::Point peak;
      cv::minMaxLoc(s.correlation, nullptr, nullptr, nullptr, &peak);
      // Sub-pixel position: weighted centroid of the 5x5 window around the peak (wrapping),
      // as cv::phaseCorrelate does; the window's sum is the response.
      double sum = 0, sx = 0, sy = 0;
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const float v = s.correlation.at<float>((peak.y + dy + n) % n, (peak.x + dx + n) % n);
          sum += v;
          sx += v * dx;
          sy += v * dy;
        }
      double px = peak.x + (sum != 0 ? sx / sum : 0), py = peak.y + (sum != 0 ? sy / sum : 0);
      if (px > n / 2.0) px -= n;
      if (py > n / 2.0) py -= n;
      px *= 2;  // the spectra are of the 2x downscale
      py *= 2;
      out.shiftX = px;
      out.shiftY = py;
      out.shiftResponse = sum;
      out.shiftScore = Saturate(std::hypot(px, py) / diagonal, 0.05);
    }
  }

  const cv::Mat prev = previous.Wrap(), cur = current.Wrap();
  if (metrics & kCameraMotion) {
    MotionPrep prevLocal, curLocal;
    if (!previousMotion || !previousMotion->ready) PrepareMotion(previous, s, prevLocal), previousMotion = &prevLocal;
    if (!currentMotion || !currentMotion->ready) PrepareMotion(current, s, curLocal), currentMotion = &curLocal;
    CameraMotion(*previousMotion, *currentMotion, cv::Size(current.width, current.height), s, out);
  }
  if (metrics & kOpticalFlow) {
    cv::goodFeaturesToTrack(prev, s.corners, 200, 0.01, std::max(5.0, 0.02 * diagonal));
    s.magnitudes.clear();
    if (!s.corners.empty()) {
      cv::calcOpticalFlowPyrLK(prev, cur, s.corners, s.tracked, s.status, s.flowError, cv::Size(21, 21), 3);
      for (size_t i = 0; i < s.corners.size(); ++i)
        if (s.status[i]) s.magnitudes.push_back(static_cast<float>(cv::norm(s.tracked[i] - s.corners[i])));
    }
    out.flowTracked = s.corners.empty() ? 0.0 : static_cast<double>(s.magnitudes.size()) / s.corners.size();
    if (!s.magnitudes.empty()) {
      const size_t mid = s.magnitudes.size() / 2;
      std::nth_element(s.magnitudes.begin(), s.magnitudes.begin() + mid, s.magnitudes.end());
      double median = s.magnitudes[mid];
      if (s.magnitudes.size() % 2 == 0)
        median = 0.5 * (median + *std::max_element(s.magnitudes.begin(), s.magnitudes.begin() + mid));
      out.flowMedian = median;
      out.flowScore = Saturate(median / diagonal, 0.05);
    }
  }
  if (metrics & kFrameDiff) {
    uint64_t total = 0;
    for (int y = 0; y < current.height; ++y) {
      const uint8_t* a = previous.data + static_cast<size_t>(y) * previous.stride;
      const uint8_t* b = current.data + static_cast<size_t>(y) * current.stride;
      uint32_t row = 0;
      for (int x = 0; x < current.width; ++x) row += a[x] > b[x] ? a[x] - b[x] : b[x] - a[x];
      total += row;
    }
    out.frameDiff = static_cast<double>(total) / (static_cast<double>(current.width) * current.height);
    out.frameDiffScore = Saturate(out.frameDiff, 10);
  }
}

}  // namespace framesift::metrics
