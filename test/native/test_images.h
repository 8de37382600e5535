// Synthetic images for the native tests: a texture of random discs and boxes, and a copy shifted
// by whole pixels.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

inline cv::Mat Texture(int seed) {
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

inline cv::Mat Shifted(const cv::Mat& src, int dx, int dy) {
  cv::Mat out;
  cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy);
  cv::warpAffine(src, out, m, src.size(), cv::INTER_NEAREST, cv::BORDER_REFLECT);
  return out;
}
