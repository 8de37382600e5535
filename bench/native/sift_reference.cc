// Reference for bench/geometry.ts: a plain C++ loop over cv::SIFT (no Node, no N-API) on the
// same raw gray frames and with the same parameters as the addon's extractFeatures()
// (2,000 features, 3 octave layers, contrast 0.04, edge 10, sigma 1.6, 8-bit descriptors).
// Usage: sift_reference FRAMES.gray WIDTH HEIGHT COUNT RUNS [MAX_FEATURES]
// Prints one JSON line: {"msPerFrame":[run0, run1, ...], "features": mean count}.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s FRAMES.gray WIDTH HEIGHT COUNT RUNS [MAX_FEATURES]\n", argv[0]);
    return 2;
  }
  const int width = std::atoi(argv[2]), height = std::atoi(argv[3]);
  const int count = std::atoi(argv[4]), runs = std::atoi(argv[5]);
  const int maxFeatures = argc > 6 ? std::atoi(argv[6]) : 2000;
  const size_t frameBytes = static_cast<size_t>(width) * height;
  std::vector<uint8_t> pixels(frameBytes * count);
  std::ifstream in(argv[1], std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(pixels.data()), static_cast<std::streamsize>(pixels.size()))) {
    std::fprintf(stderr, "cannot read %d frames of %dx%d from %s\n", count, width, height, argv[1]);
    return 1;
  }
  // One thread per frame, as the addon (its OpenCV pool is fixed to one thread; a job splits
  // frames over its own threads).
  cv::setNumThreads(1);
  auto sift = cv::SIFT::create(maxFeatures, 3, 0.04, 10, 1.6, CV_8U);
  std::vector<double> msPerFrame;
  double features = 0;
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (int f = 0; f < count; ++f) {
      cv::Mat frame(height, width, CV_8UC1, pixels.data() + frameBytes * f);
      std::vector<cv::KeyPoint> keypoints;
      cv::Mat descriptors;
      sift->detectAndCompute(frame, cv::noArray(), keypoints, descriptors);
      if (run == 0) features += static_cast<double>(keypoints.size()) / count;
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    msPerFrame.push_back(ms / count);
  }
  std::printf("{\"msPerFrame\":[");
  for (size_t k = 0; k < msPerFrame.size(); ++k) std::printf("%s%.3f", k ? "," : "", msPerFrame[k]);
  std::printf("],\"features\":%.1f,\"threads\":%d}\n", features, cv::getNumThreads());
  return 0;
}
