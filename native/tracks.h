// Feature tracks: union-find over verified matches across all pairs, then statistics that tell
// whether an SfM reconstruction can chain the frames together. Plain C++, no N-API.
//
// Conflict policy: a track that holds two keypoints of the same frame (the matches chain
// a->b->a' with a != a') is DROPPED whole, not split: which observation is right cannot be
// known from the match graph alone, and a split chosen by union order would be arbitrary
// (OpenMVG's track builder filters the same way). Dropped tracks are counted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace framesift {

// The verified matches of one pair of frames: `count` (index in frame i, index in frame j)
// pairs at `matches` (not owned).
struct TrackPairInput {
  uint32_t i = 0, j = 0;
  const uint32_t* matches = nullptr;
  size_t count = 0;
};

// What the builder knows about one frame: its feature count (match indices must be below
// it) and, optionally, keypoint coordinates (x,y pairs, not owned) and the image size, used
// for grid coverage.
struct TrackFrameInput {
  uint32_t featureCount = 0;
  const float* xy = nullptr;
  int width = 0, height = 0;
};

struct TrackOptions {
  int gridCols = 8;         // coverage grid over each frame
  int gridRows = 8;
  bool keepTracks = false;  // also return every track's observations
};

struct TrackResult {
  uint32_t tracks = 0;                 // tracks seen in >= 2 frames (after dropping conflicts)
  uint32_t tracksAtLeast3 = 0;         // tracks seen in >= 3 frames
  uint32_t conflictingTracks = 0;      // tracks dropped for holding two keypoints of one frame
  uint64_t observations = 0;           // keypoints in kept tracks
  std::vector<uint32_t> lengthHistogram;  // [n] = tracks seen in exactly n frames (n >= 2)
  std::vector<uint32_t> perFrameTracks;   // tracks that observe each frame
  std::vector<float> perFrameCoverage;    // fraction of grid cells holding a tracked keypoint; -1 without coordinates
  std::vector<uint32_t> consecutiveShared;  // [f] = tracks seen in both frame f and f+1
  int weakestLink = -1;                // f of the smallest consecutiveShared (first on ties), -1 with < 2 frames
  uint32_t weakestLinkShared = 0;
  // With keepTracks: track t has observations [trackOffsets[t], trackOffsets[t+1]) sorted by frame.
  std::vector<uint32_t> trackOffsets, trackFrames, trackFeatures;
};

// Throws framesift::Error (InvalidArg) for frame or feature indices out of range.
TrackResult BuildTracks(const std::vector<TrackFrameInput>& frames, const std::vector<TrackPairInput>& pairs,
                        const TrackOptions& options);

}  // namespace framesift
