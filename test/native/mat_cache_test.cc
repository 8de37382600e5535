// The Mat block cache (native/mat_cache.cc): feature extraction reuses its freed blocks and gets
// the features fresh blocks give; Mats made outside extraction are allocated as OpenCV would.
#include <catch2/catch.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "local_features.h"
#include "mat_cache.h"
#include "test_images.h"

using namespace framesift;

TEST_CASE("feature extraction reuses its freed image blocks, with the features fresh blocks give") {
  // As the addon does at load: the cache installed (the Mats made before keep their allocator),
  // and OpenCV's own pool at one thread, so SIFT's Mats are made on the scope's thread.
  InstallMatCache();
  ReleaseMatCache();
  const int poolThreads = cv::getNumThreads();
  cv::setNumThreads(1);
  const cv::Mat a = Texture(7);
  cv::Mat large;
  cv::resize(a, large, cv::Size(1280, 960));  // a doubled first octave of 2560 x 1920 floats: 19.7 MB a level
  FeatureOptions options;
  options.maxFeatures = 1500;
  const FeatureData fresh = ExtractFeatures(large.data, large.cols, large.rows, static_cast<int>(large.step), options);
  const size_t held = MatCacheBytes();
  CHECK(held > (size_t{50} << 20));
  CHECK(held <= (size_t{384} << 20));
  const FeatureData reused = ExtractFeatures(large.data, large.cols, large.rows, static_cast<int>(large.step), options);
  CHECK(MatCacheBytes() == held);  // the same blocks again, none new
  REQUIRE(reused.Count() == fresh.Count());
  CHECK(reused.xy == fresh.xy);
  CHECK(cv::norm(reused.descriptors, fresh.descriptors, cv::NORM_INF) == 0);
  {
    // Outside extraction a Mat is allocated as OpenCV would: nothing joins the cache.
    cv::Mat scratch(2000, 2000, CV_32F, cv::Scalar(1));
  }
  CHECK(MatCacheBytes() == held);
  CHECK(ReleaseMatCache() == held);
  CHECK(MatCacheBytes() == 0);
  cv::setNumThreads(poolThreads);
}
