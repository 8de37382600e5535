// Per-frame metrics (native/metrics.cc) on synthetic images with known values.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "metrics.h"

using namespace framesift::metrics;

namespace {
struct Image {
  std::vector<uint8_t> pixels;
  int width, height;
  GrayView View() const { return GrayView{pixels.data(), width, height, width}; }
};

Image Flat(int w, int h, uint8_t value) { return Image{std::vector<uint8_t>(static_cast<size_t>(w) * h, value), w, h}; }

Image Checker(int w, int h, int cell, int dx = 0) {
  Image img = Flat(w, h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.pixels[static_cast<size_t>(y) * w + x] = (((x + dx) / cell + y / cell) % 2) ? 220 : 30;
  return img;
}

Image Blurred(const Image& src, double sigma) {
  Image out = src;
  cv::Mat in(src.height, src.width, CV_8UC1, const_cast<uint8_t*>(src.pixels.data()));
  cv::Mat dst(out.height, out.width, CV_8UC1, out.pixels.data());
  cv::GaussianBlur(in, dst, cv::Size(0, 0), sigma);
  return out;
}

FrameMetrics Measure(const Image& img, uint32_t which) {
  ScratchPtr scratch = NewScratch();
  FrameMetrics m;
  MeasureFrame(img.View(), which, *scratch, m, nullptr);
  return m;
}
}  // namespace

TEST_CASE("a flat image has no sharpness, its exact brightness and no clipping") {
  FrameMetrics m = Measure(Flat(64, 48, 128), kSharpness | kExposure);
  CHECK(m.laplacianVariance == 0);
  CHECK(m.tenengrad == 0);
  CHECK(m.brightnessMean == Approx(128));
  CHECK(m.clippedLow == 0);
  CHECK(m.clippedHigh == 0);
  CHECK(m.histogramEntropy == Approx(0).margin(1e-12));
  CHECK(std::isnan(m.fftHighRatio));  // not selected
}

TEST_CASE("black and white images are fully clipped") {
  CHECK(Measure(Flat(32, 32, 0), kExposure).clippedLow == 1);
  CHECK(Measure(Flat(32, 32, 255), kExposure).clippedHigh == 1);
}

TEST_CASE("blur lowers every sharpness measure") {
  const Image sharp = Checker(160, 120, 8);
  const Image soft = Blurred(sharp, 3.0);
  FrameMetrics a = Measure(sharp, kSharpness | kFft), b = Measure(soft, kSharpness | kFft);
  CHECK(a.laplacianVariance > 4 * b.laplacianVariance);
  CHECK(a.tenengrad > b.tenengrad);
  CHECK(a.fftHighRatio > b.fftHighRatio);
  CHECK(a.laplacianScore >= 0);
  CHECK(a.laplacianScore <= 1);
}

TEST_CASE("motion: identical frames differ by 0, a shifted texture by its shift") {
  ScratchPtr scratch = NewScratch();
  cv::Mat noise(128, 160, CV_8UC1);
  cv::RNG rng(7);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(noise, noise, cv::Size(0, 0), 1.5);
  Image a{std::vector<uint8_t>(noise.data, noise.data + noise.total()), 160, 128};
  Image b = a;
  const int shift = 5;
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 160; ++x) b.pixels[y * 160 + x] = a.pixels[y * 160 + std::max(0, x - shift)];
  FrameMetrics same, moved;
  MeasurePair(a.View(), a.View(), Spectrum(), Spectrum(), kFrameDiff | kPhaseCorrelation, *scratch, same);
  MeasurePair(a.View(), b.View(), Spectrum(), Spectrum(), kFrameDiff | kPhaseCorrelation, *scratch, moved);
  CHECK(same.frameDiff == 0);
  CHECK(same.shiftX == Approx(0).margin(0.1));
  CHECK(moved.frameDiff > 1);
  CHECK(moved.shiftX == Approx(shift).margin(1.0));  // sub-pixel estimate on a 2x downscale
  CHECK(moved.shiftY == Approx(0).margin(1.0));
}

TEST_CASE("crop sizes for phase correlation") {
  CHECK(CropSize(1000) == 128);
  CHECK(CropSize(100) == 96);
  CHECK(CropSize(16) == 16);
}
