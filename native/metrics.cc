#include "metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

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
      {"frameDiff", kFrameDiff, &FrameMetrics::frameDiff},
      {"frameDiffScore", kFrameDiff, &FrameMetrics::frameDiffScore},
  };
  return fields;
}

struct Scratch {
  // gradient pass
  std::vector<uint32_t> gradientHist;  // |gradient| in bins of 0.25 grey levels per pixel
  std::vector<uint32_t> residualHist;  // |Laplacian-of-Laplacian residual|, integer levels
  cv::Mat harrisXX, harrisYY, harrisXY, boxXX, boxYY, boxXY, harrisResponse;
  // FFT
  int windowSize = 0;
  cv::Mat window, fftInput, spectrumTmp, cross, correlation;
  // features and structure
  std::vector<cv::KeyPoint> keypoints;
  int orbFeatures = 0;
  cv::Ptr<cv::ORB> orb;
  cv::Ptr<cv::SIFT> sift;
  cv::Mat edges;
  std::vector<cv::Vec4i> lines;
  // texture and hash
  cv::Mat small, hash32, hashFloat, hashDct;
  // motion
  std::vector<cv::Point2f> corners, tracked;
  std::vector<uint8_t> status;
  std::vector<float> flowError, magnitudes;
};

void ScratchDeleter::operator()(Scratch* s) const { delete s; }
ScratchPtr NewScratch() { return ScratchPtr(new Scratch()); }

namespace {

// One pass over the interior pixels for everything built on 3x3 neighbourhoods: Laplacian
// variance, Tenengrad, the gradient histogram, the structure tensor, the noise residual and
// the Harris tensor products. Integer sums: exact, so bit-identical whatever the build.
void GradientPass(const GrayView& img, uint32_t metrics, Scratch& s, FrameMetrics& out) {
  const bool sharp = metrics & kSharpness, tensor = metrics & kMotionBlur, noise = metrics & kNoise,
             harris = metrics & kHarris;
  const int w = img.width, h = img.height;
  if (sharp) s.gradientHist.assign(728, 0);
  if (noise) s.residualHist.assign(16 * 255 + 1, 0);
  if (harris) {
    s.harrisXX.create(h, w, CV_32F);
    s.harrisYY.create(h, w, CV_32F);
    s.harrisXY.create(h, w, CV_32F);
    s.harrisXX.setTo(0);
    s.harrisYY.setTo(0);
    s.harrisXY.setTo(0);
  }
  int64_t sumLap = 0, sumLap2 = 0, sumG2 = 0, sxx = 0, syy = 0, sxy = 0;
  for (int y = 1; y < h - 1; ++y) {
    const uint8_t* r0 = img.data + static_cast<size_t>(y - 1) * img.stride;
    const uint8_t* r1 = r0 + img.stride;
    const uint8_t* r2 = r1 + img.stride;
    float* hxx = harris ? s.harrisXX.ptr<float>(y) : nullptr;
    float* hyy = harris ? s.harrisYY.ptr<float>(y) : nullptr;
    float* hxy = harris ? s.harrisXY.ptr<float>(y) : nullptr;
    int64_t rowLap = 0, rowLap2 = 0, rowG2 = 0, rowXX = 0, rowYY = 0, rowXY = 0;
    for (int x = 1; x < w - 1; ++x) {
      const int a = r0[x - 1], b = r0[x], c = r0[x + 1];
      const int d = r1[x - 1], e = r1[x], f = r1[x + 1];
      const int g = r2[x - 1], k = r2[x], i = r2[x + 1];
      const int gx = (c + 2 * f + i) - (a + 2 * d + g);  // Sobel: 8 x grey levels per pixel
      const int gy = (g + 2 * k + i) - (a + 2 * b + c);
      const int g2 = gx * gx + gy * gy;
      if (sharp) {
        const int lap = b + d + f + k - 4 * e;
        rowLap += lap;
        rowLap2 += lap * lap;
        rowG2 += g2;
        // bin = |g| / 8 / 0.25
        s.gradientHist[static_cast<int>(std::sqrt(static_cast<float>(g2)) * 0.5f)]++;
      }
      if (tensor) {
        rowXX += gx * gx;
        rowYY += gy * gy;
        rowXY += gx * gy;
      }
      if (noise) {
        const int r = (a + c + g + i) - 2 * (b + d + f + k) + 4 * e;
        s.residualHist[r < 0 ? -r : r]++;
      }
      if (harris) {
        hxx[x] = static_cast<float>(gx * gx);
        hyy[x] = static_cast<float>(gy * gy);
        hxy[x] = static_cast<float>(gx * gy);
      }
    }
    sumLap += rowLap;
    sumLap2 += rowLap2;
    sumG2 += rowG2;
    sxx += rowXX;
    syy += rowYY;
    sxy += rowXY;
  }
  const double n = static_cast<double>(w - 2) * (h - 2);
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
    double strongest = 0.5 * std::atan2(2 * b, a - c) * 180.0 / M_PI;
    double weakest = std::fmod(strongest + 90.0 + 360.0, 180.0);
    out.blurDirection = weakest;
    out.motionBlurScore = 1.0 - out.blurAnisotropy;
  }
  if (noise) {
    // Median absolute residual of the [1 -2 1]x[1 -2 1] mask (norm 6): robust to edges and
    // texture, which make few large residuals; sigma = median / (0.6745 * 6).
    out.noiseSigma = std::max(0.0, HistogramQuantile(s.residualHist, n, 0.5)) / (0.6745 * 6.0);
    out.noiseScore = std::exp(-out.noiseSigma / 8.0);
  }
}

void HarrisCount(const GrayView& img, Scratch& s, FrameMetrics& out) {
  // Tensor summed over 3x3 blocks; the products are in (8 x grey levels/pixel)^2, so the
  // response of the block-mean tensor in (grey levels/pixel)^4 is R / (64 * 9)^2.
  constexpr double kThreshold = 1000.0 * (64.0 * 9) * (64.0 * 9);  // (grey levels/pixel)^4
  constexpr float kK = 0.04f;
  cv::boxFilter(s.harrisXX, s.boxXX, CV_32F, cv::Size(3, 3), cv::Point(-1, -1), false, cv::BORDER_CONSTANT);
  cv::boxFilter(s.harrisYY, s.boxYY, CV_32F, cv::Size(3, 3), cv::Point(-1, -1), false, cv::BORDER_CONSTANT);
  cv::boxFilter(s.harrisXY, s.boxXY, CV_32F, cv::Size(3, 3), cv::Point(-1, -1), false, cv::BORDER_CONSTANT);
  const int w = img.width, h = img.height;
  s.harrisResponse.create(h, w, CV_32F);
  for (int y = 0; y < h; ++y) {
    const float* a = s.boxXX.ptr<float>(y);
    const float* c = s.boxYY.ptr<float>(y);
    const float* b = s.boxXY.ptr<float>(y);
    float* r = s.harrisResponse.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      const float t = a[x] + c[x];
      r[x] = a[x] * c[x] - b[x] * b[x] - kK * t * t;
    }
  }
  // Local maxima: strictly above the neighbours before it in raster order and not below the
  // ones after, so a plateau (e.g. the 4 pixels around a checkerboard corner) counts once.
  int count = 0;
  const float threshold = static_cast<float>(kThreshold);
  for (int y = 2; y < h - 2; ++y) {
    const float* up = s.harrisResponse.ptr<float>(y - 1);
    const float* row = s.harrisResponse.ptr<float>(y);
    const float* down = s.harrisResponse.ptr<float>(y + 1);
    for (int x = 2; x < w - 2; ++x) {
      const float v = row[x];
      if (v <= threshold) continue;
      if (v > up[x - 1] && v > up[x] && v > up[x + 1] && v > row[x - 1] && v >= row[x + 1] && v >= down[x - 1] &&
          v >= down[x] && v >= down[x + 1])
        ++count;
    }
  }
  out.harrisCount = count;
  out.harrisScore = Saturate(count * 1000.0 / (static_cast<double>(w) * h), 1.0);
}

void Exposure(const GrayView& img, FrameMetrics& out) {
  std::array<uint32_t, 256> hist{};
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = img.data + static_cast<size_t>(y) * img.stride;
    for (int x = 0; x < img.width; ++x) hist[row[x]]++;
  }
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
  if (!s.small.empty()) return s.small;
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

void FftRatio(const Spectrum& spectrum, FrameMetrics& out) {
  const int n = spectrum.rows;
  double high = 0, total = 0;
  for (int y = 0; y < n; ++y) {
    const float* row = spectrum.ptr<float>(y);
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

int FftSize(int width, int height) {
  static constexpr int kSizes[] = {256, 192, 160, 128, 96, 64, 48, 32, 16};
  const int side = std::min(width, height);
  for (int size : kSizes)
    if (size <= kFftMaxSize && size <= side) return size;
  return 0;
}

void ComputeSpectrum(const GrayView& img, Scratch& s, Spectrum& out) {
  const int n = FftSize(img.width, img.height);
  if (n == 0) {
    out.release();
    return;
  }
  if (s.windowSize != n) {
    cv::createHanningWindow(s.window, cv::Size(n, n), CV_32F);
    s.windowSize = n;
  }
  const cv::Rect crop((img.width - n) / 2, (img.height - n) / 2, n, n);
  img.Wrap()(crop).convertTo(s.fftInput, CV_32F);
  const double mean = cv::mean(s.fftInput)[0];
  s.fftInput -= mean;
  cv::multiply(s.fftInput, s.window, s.fftInput);
  cv::dft(s.fftInput, out, cv::DFT_COMPLEX_OUTPUT);
}

void MeasureFrame(const GrayView& img, uint32_t metrics, Scratch& s, FrameMetrics& out, Spectrum* spectrum) {
  const cv::Mat image = img.Wrap();
  const double area = static_cast<double>(img.width) * img.height;
  s.small.release();

  if (metrics & (kSharpness | kMotionBlur | kNoise | kHarris)) GradientPass(img, metrics, s, out);
  if (metrics & kHarris) HarrisCount(img, s, out);
  if (metrics & kExposure) Exposure(img, out);

  if (metrics & (kFft | kPhaseCorrelation)) {
    Spectrum local;
    Spectrum& target = spectrum ? *spectrum : local;
    ComputeSpectrum(img, s, target);
    if ((metrics & kFft) && !target.empty()) FftRatio(target, out);
  }

  if (metrics & (kFast | kCoverage)) {
    cv::FAST(image, s.keypoints, 20, true, cv::FastFeatureDetector::TYPE_9_16);
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
    cv::Canny(image, s.edges, 50, 150, 3, false);
    if (metrics & kEdges) {
      out.edgeDensity = cv::countNonZero(s.edges) / area;
      out.edgeScore = Saturate(out.edgeDensity, 0.05);
    }
    if (metrics & kLines) {
      const double diagonal = std::hypot(img.width, img.height);
      cv::HoughLinesP(s.edges, s.lines, 1, CV_PI / 180, 40, 0.05 * diagonal, std::max(2.0, 0.005 * diagonal));
      out.lineCount = static_cast<double>(s.lines.size());
      out.lineScore = Saturate(out.lineCount, 20);
    }
  }
  if (metrics & kLbp) Lbp(SmallImage(img, s), out);
  if (metrics & kGlcm) Glcm(SmallImage(img, s), out);
  if (metrics & kPhash) PerceptualHash(SmallImage(img, s), s, out);
}

void MeasurePair(const GrayView& previous, const GrayView& current, const Spectrum& previousSpectrum,
                 const Spectrum& currentSpectrum, uint32_t metrics, Scratch& s, FrameMetrics& out) {
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
      out.shiftX = px;
      out.shiftY = py;
      out.shiftResponse = sum;
      out.shiftScore = Saturate(std::hypot(px, py) / diagonal, 0.05);
    }
  }

  const cv::Mat prev = previous.Wrap(), cur = current.Wrap();
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
