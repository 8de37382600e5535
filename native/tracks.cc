#include "tracks.h"

#include <algorithm>
#include <string>

#include "errors.h"

namespace framesift {
namespace {

constexpr uint32_t kUntouched = 0xFFFFFFFFu;

// Path halving; the smaller id becomes the root, so a track's root is its first observation.
uint32_t Find(std::vector<uint32_t>& parent, uint32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

TrackResult BuildTracks(const std::vector<TrackFrameInput>& frames, const std::vector<TrackPairInput>& pairs,
                        const TrackOptions& options) {
  TrackResult result;
  const size_t frameCount = frames.size();
  std::vector<uint64_t> offset(frameCount + 1, 0);
  for (size_t f = 0; f < frameCount; ++f) offset[f + 1] = offset[f] + frames[f].featureCount;
  if (offset[frameCount] >= kUntouched) Fail(ErrorCode::InvalidArg, "too many features for the track builder (>= 2^32)");
  const uint32_t nodes = static_cast<uint32_t>(offset[frameCount]);

  // parent[n] == kUntouched: the keypoint is in no match (most of them, on sparse graphs).
  std::vector<uint32_t> parent(nodes, kUntouched);
  for (size_t p = 0; p < pairs.size(); ++p) {
    const TrackPairInput& pair = pairs[p];
    if (pair.i >= frameCount || pair.j >= frameCount || pair.i == pair.j)
      Fail(ErrorCode::InvalidArg, "pairs[" + std::to_string(p) + "] = [" + std::to_string(pair.i) + ", " +
                                      std::to_string(pair.j) + "] is not a pair of distinct frames below " +
                                      std::to_string(frameCount));
    const uint32_t ci = frames[pair.i].featureCount, cj = frames[pair.j].featureCount;
    const uint32_t bi = static_cast<uint32_t>(offset[pair.i]), bj = static_cast<uint32_t>(offset[pair.j]);
    for (size_t m = 0; m < pair.count; ++m) {
      uint32_t a = pair.matches[2 * m], b = pair.matches[2 * m + 1];
      if (a >= ci || b >= cj)
        Fail(ErrorCode::InvalidArg, "match " + std::to_string(m) + " of pairs[" + std::to_string(p) +
                                        "] names a feature beyond the frame's count");
      uint32_t x = bi + a, y = bj + b;
      if (parent[x] == kUntouched) parent[x] = x;
      if (parent[y] == kUntouched) parent[y] = y;
      uint32_t rx = Find(parent, x), ry = Find(parent, y);
      if (rx == ry) continue;
      if (rx < ry) parent[ry] = rx;
      else parent[rx] = ry;
    }
  }

  // Bucket the touched keypoints by root (counting sort; stable, so each bucket is in id
  // order, which is frame order). size[r] counts, then becomes the bucket's write cursor.
  std::vector<uint32_t> size(nodes, 0);
  uint32_t touched = 0;
  for (uint32_t n = 0; n < nodes; ++n) {
    if (parent[n] == kUntouched) continue;
    parent[n] = Find(parent, n);
    ++size[parent[n]];
    ++touched;
  }
  // Buckets in root id order = order of first observation.
  std::vector<uint32_t> bucketStart;
  uint32_t cursor = 0;
  for (uint32_t n = 0; n < nodes; ++n) {
    if (size[n] == 0) continue;
    bucketStart.push_back(cursor);
    uint32_t count = size[n];
    size[n] = cursor;
    cursor += count;
  }
  bucketStart.push_back(cursor);
  std::vector<uint32_t> memberFrame(touched), memberFeature(touched);
  for (uint32_t f = 0, n = 0; f < frameCount; ++f) {
    for (uint32_t k = 0; k < frames[f].featureCount; ++k, ++n) {
      if (parent[n] == kUntouched) continue;
      uint32_t slot = size[parent[n]]++;
      memberFrame[slot] = f;
      memberFeature[slot] = k;
    }
  }
  std::vector<uint32_t>().swap(parent);
  std::vector<uint32_t>().swap(size);

  const int cols = std::max(1, options.gridCols), rows = std::max(1, options.gridRows);
  const size_t cells = static_cast<size_t>(cols) * rows;
  std::vector<uint8_t> occupied(frameCount * cells, 0);
  result.perFrameTracks.assign(frameCount, 0);
  result.consecutiveShared.assign(frameCount > 0 ? frameCount - 1 : 0, 0);
  result.lengthHistogram.assign(3, 0);
  if (options.keepTracks) result.trackOffsets.push_back(0);

  for (size_t t = 0; t + 1 < bucketStart.size(); ++t) {
    const uint32_t begin = bucketStart[t], end = bucketStart[t + 1];
    bool conflict = false;
    for (uint32_t m = begin + 1; m < end && !conflict; ++m) conflict = memberFrame[m] == memberFrame[m - 1];
    if (conflict) {
      ++result.conflictingTracks;
      continue;
    }
    const uint32_t length = end - begin;  // >= 2: every touched keypoint has a match
    ++result.tracks;
    if (length >= 3) ++result.tracksAtLeast3;
    if (result.lengthHistogram.size() <= length) result.lengthHistogram.resize(length + 1, 0);
    ++result.lengthHistogram[length];
    result.observations += length;
    for (uint32_t m = begin; m < end; ++m) {
      const uint32_t f = memberFrame[m];
      ++result.perFrameTracks[f];
      if (m > begin && memberFrame[m - 1] + 1 == f) ++result.consecutiveShared[f - 1];
      const TrackFrameInput& frame = frames[f];
      if (frame.xy != nullptr && frame.width > 0 && frame.height > 0) {
        const uint32_t k = memberFeature[m];
        int cx = static_cast<int>(frame.xy[2 * k] * cols / frame.width);
        int cy = static_cast<int>(frame.xy[2 * k + 1] * rows / frame.height);
        cx = std::min(std::max(cx, 0), cols - 1);
        cy = std::min(std::max(cy, 0), rows - 1);
        occupied[f * cells + static_cast<size_t>(cy) * cols + cx] = 1;
      }
    }
    if (options.keepTracks) {
      result.trackFrames.insert(result.trackFrames.end(), memberFrame.begin() + begin, memberFrame.begin() + end);
      result.trackFeatures.insert(result.trackFeatures.end(), memberFeature.begin() + begin,
                                  memberFeature.begin() + end);
      result.trackOffsets.push_back(static_cast<uint32_t>(result.trackFrames.size()));
    }
  }

  result.perFrameCoverage.assign(frameCount, -1.0f);
  for (size_t f = 0; f < frameCount; ++f) {
    if (frames[f].xy == nullptr || frames[f].width <= 0 || frames[f].height <= 0) continue;
    size_t hit = 0;
    for (size_t c = 0; c < cells; ++c) hit += occupied[f * cells + c];
    result.perFrameCoverage[f] = static_cast<float>(hit) / static_cast<float>(cells);
  }
  for (size_t f = 0; f < result.consecutiveShared.size(); ++f) {
    if (result.weakestLink < 0 || result.consecutiveShared[f] < result.weakestLinkShared) {
      result.weakestLink = static_cast<int>(f);
      result.weakestLinkShared = result.consecutiveShared[f];
    }
  }
  return result;
}

}  // namespace framesift
