// Track building (native/tracks.cc): exact counts on small graphs, conflicts, bad indices.
#include <catch2/catch.hpp>

#include <vector>

#include "errors.h"
#include "tracks.h"

using namespace framesift;

namespace {
std::vector<TrackFrameInput> Frames(std::vector<uint32_t> counts) {
  std::vector<TrackFrameInput> frames;
  for (uint32_t c : counts) frames.push_back(TrackFrameInput{c, nullptr, 0, 0});
  return frames;
}
}  // namespace

TEST_CASE("tracks chain matches across frames and count exactly") {
  // Feature 0 is seen in frames 0, 1, 2 (a track of 3); feature 1 of frame 0 only in frame 1.
  const std::vector<uint32_t> m01 = {0, 0, 1, 1}, m12 = {0, 0};
  std::vector<TrackPairInput> pairs = {{0, 1, m01.data(), 2}, {1, 2, m12.data(), 1}};
  TrackResult r = BuildTracks(Frames({2, 2, 1}), pairs, TrackOptions{});
  CHECK(r.tracks == 2);
  CHECK(r.tracksAtLeast3 == 1);
  CHECK(r.observations == 5);
  CHECK(r.perFrameTracks == std::vector<uint32_t>{2, 2, 1});
  CHECK(r.consecutiveShared == std::vector<uint32_t>{2, 1});
  CHECK(r.weakestLink == 1);
  CHECK(r.lengthHistogram[2] == 1);
  CHECK(r.lengthHistogram[3] == 1);
}

TEST_CASE("a track holding two keypoints of one frame is dropped whole") {
  // 0:0 - 1:0 - 2:0 - 0:1 chains two keypoints of frame 0.
  const std::vector<uint32_t> m01 = {0, 0}, m12 = {0, 0}, m20 = {0, 1};
  std::vector<TrackPairInput> pairs = {{0, 1, m01.data(), 1}, {1, 2, m12.data(), 1}, {2, 0, m20.data(), 1}};
  TrackResult r = BuildTracks(Frames({2, 1, 1}), pairs, TrackOptions{});
  CHECK(r.tracks == 0);
  CHECK(r.conflictingTracks == 1);
}

TEST_CASE("coverage counts the grid cells of tracked keypoints") {
  const std::vector<float> xy0 = {1, 1, 99, 99}, xy1 = {1, 1, 50, 50};
  const std::vector<uint32_t> m = {0, 0, 1, 1};
  std::vector<TrackFrameInput> frames = {{2, xy0.data(), 100, 100}, {2, xy1.data(), 100, 100}};
  TrackOptions options;
  options.gridCols = options.gridRows = 2;
  TrackResult r = BuildTracks(frames, {{0, 1, m.data(), 2}}, options);
  CHECK(r.perFrameCoverage[0] == Approx(0.5));   // cells (0,0) and (1,1)
  CHECK(r.perFrameCoverage[1] == Approx(0.5));   // (0,0) and (1,1): 50 is the second cell
}

TEST_CASE("bad pair and feature indices are InvalidArg errors, not out-of-bounds writes") {
  const std::vector<uint32_t> m = {0, 0};
  auto code = [](auto&& run) {
    try {
      run();
    } catch (const Error& e) {
      return e.code;
    }
    return ErrorCode::Internal;
  };
  CHECK(code([&] { BuildTracks(Frames({1, 1}), {{0, 7, m.data(), 1}}, TrackOptions{}); }) == ErrorCode::InvalidArg);
  CHECK(code([&] { BuildTracks(Frames({1, 1}), {{1, 1, m.data(), 1}}, TrackOptions{}); }) == ErrorCode::InvalidArg);
  const std::vector<uint32_t> beyond = {0, 5};
  CHECK(code([&] { BuildTracks(Frames({1, 1}), {{0, 1, beyond.data(), 1}}, TrackOptions{}); }) == ErrorCode::InvalidArg);
}
