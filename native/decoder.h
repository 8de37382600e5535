// Frame sources: a video (file or any URL libavformat opens) or an image sequence, decoded at
// analysis size as gray8 and/or RGB24 with the display rotation applied. Plain C++: no N-API.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "plane_layout.h"

namespace framesift {

// Bytes to read instead of a file (fuzzing, in-memory inputs); not owned.
struct MemoryInput {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

struct DecoderOptions {
  std::string input;               // path or URL; for image sequences a label for messages
  std::vector<std::string> files;  // image sequence files in order (non-empty = sequence mode)
  double sequenceFps = 1.0;
  int analysisSize = 0;  // longest side of the output; 0 = source size (never upscales)
  bool gray = true;
  bool rgb = false;
  enum class Sampling { All, Fps, Keyframes } sampling = Sampling::All;
  double fps = 0;
  double start = 0;
  double end = -1;  // < 0: to the end
  int threads = 0;  // 0 = all cores
  int64_t maxPixels = 0;
  bool applyRotation = true;
  // Skip decoding frames no other frame references (most B-frames): a sampled pass (fast mode)
  // decodes a fraction of the stream. Frame indices then come from timestamps.
  bool skipNonReference = false;
  // >= 0: after each keyframe, send the decoder only the packets of the next gopHeadSec seconds
  // (a contiguous decode-order run, so every frame sent decodes exactly) and skip the rest of
  // the GOP unread by the decoder. 0 = keyframes only. Decoding cost falls to the head's share
  // of each GOP; frame indices then come from timestamps. < 0 (default): off.
  double gopHeadSec = -1;
  // >= 0 with gopHeadSec: where the container's index tells a GOP's length, its head grows so
  // that at most this many seconds of it stay undecoded (no long hole after a long GOP).
  double gopMaxSkipSec = -1;
  // Analysis decoding: skip H.264/HEVC deblocking and allow non-compliant speed-ups. The
  // analysis image is a downscale, where the difference averages away; full-resolution output
  // frames must not use it.
  bool fastDecode = false;
  // RGB plane at the source size (rotated) while gray stays at the analysis size: one decode
  // gives both the analysis image and the full-resolution output image.
  bool rgbFullResolution = false;
  // With rgb: the RGB plane is not converted while decoding; the frame's slot holds the decoded
  // planes instead (OutputSizes::planes), converted later only for the frames that are kept
  // (FrameSpill). The converted pixels are those the decode would have made.
  bool rgbDeferred = false;
  // When non-empty (ascending): deliver only the frames at these times (from the container
  // start); long gaps between them are crossed by seeking. For fetching chosen frames.
  std::vector<double> wantedPts;
  // Optional, one per wanted pts: the time of the keyframe at or before it (from an earlier
  // pass). Decoding jumps there whenever that keyframe is ahead of what was read, so fetching
  // frames costs one GOP prefix each instead of everything in between.
  std::vector<double> wantedKeyframePts;
  // > 0: stop after this many decoded frames (a cap against endless or hostile input; the
  // stats say `capped`). 0 = no cap.
  int64_t maxFramesDecoded = 0;
  // > 0 for URL inputs: a blocking read that receives no byte for this long fails with
  // Error(Timeout) instead of waiting forever on a stalled server. 0 = wait.
  double readTimeoutSec = 0;
  // Non-null data: read the input's bytes from memory (fuzzing, tests); `input` names it.
  MemoryInput memory;
};

struct ProbeInfo {
  std::string input, container, codec, pixelFormat;
  int width = 0, height = 0, rotation = 0;  // rotation: clockwise degrees to display upright
  int displayWidth = 0, displayHeight = 0;
  int bitDepth = 8;
  double avgFrameRate = 0, realFrameRate = 0, durationSec = 0, startTimeSec = 0;
  int64_t frameCount = -1;
  bool variableFrameRate = false;
  bool isImageSequence = false;
  int outputWidth = 0, outputHeight = 0;
  // 35 mm-equivalent focal length (mm) when the input states it, else 0: an image's EXIF
  // FocalLengthIn35mmFilm (first image of a sequence), a QuickTime/MP4 file's
  // com.apple.quicktime.camera.focal_length.35mm_equivalent (container or stream tag).
  double focalLength35mm = 0;
};

// A focal length tag's value in mm: a plain number or a rational "a/b"; 0 when absent, not
// positive or not a number.
double FocalLengthTag(const char* value);

struct DecodeStats {
  int64_t packetsRead = 0;     // video packets demuxed
  int64_t packetsSent = 0;     // of those, sent to the decoder
  int64_t framesDecoded = 0;   // frames the decoder produced
  int64_t framesDelivered = 0;
  int64_t framesLost = 0;      // packets that never became a frame
  int64_t decodeErrors = 0;
  int64_t corruptFrames = 0;   // frames produced with concealed damage
  bool truncated = false;
  bool capped = false;         // stopped at maxFramesDecoded
  std::string lastError;
};

// Output sizes of one frame: gray at the analysis size; RGB the same, or the source size.
struct OutputSizes {
  int width = 0, height = 0;        // gray (and RGB unless rgbFullResolution)
  int rgbWidth = 0, rgbHeight = 0;  // RGB
  PlaneLayout planes;               // rgbDeferred: what the RGB target holds instead
};

struct FrameInfo {
  int64_t index = 0;
  double ptsSec = 0;
  bool keyframe = false;
  OutputSizes size;
};

// Where a source writes a frame: called once the frame's output sizes are known, returns
// destinations for the enabled planes (packed rows: stride = width, rgbWidth * 3).
struct FrameTarget {
  uint8_t* gray = nullptr;
  uint8_t* rgb = nullptr;
};
using TargetProvider = std::function<FrameTarget(const OutputSizes& sizes)>;

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const ProbeInfo& Probe() const = 0;
  // Decodes the next selected frame into the target. False at the end of the stream/range.
  virtual bool Next(const TargetProvider& target, FrameInfo& info) = 0;
  // Restarts decoding at `seconds` (from the container start); the time range end still holds.
  virtual void Seek(double seconds) = 0;
  virtual const DecodeStats& Stats() const = 0;
  // Times of the keyframes demuxed so far (ascending), for later passes' seeking.
  virtual const std::vector<double>& KeyframeTimes() const = 0;
  // The first `max` keyframe times from the container's index, without demuxing or decoding;
  // empty unless the index lists every frame (mp4/mov do; Matroska cues and TS do not).
  virtual std::vector<double> IndexedKeyframeTimes(size_t /*max*/) const { return {}; }
};

// Opens the input (throws framesift::Error: NotFound, Open, NoVideo, Unsupported, TooLarge).
std::unique_ptr<FrameSource> OpenFrameSource(const DecoderOptions& options);

// Output size for a source of w x h (after rotation) and a longest-side limit.
void AnalysisSize(int width, int height, int longestSide, int* outWidth, int* outHeight);

// Fills the probe's stored size, display size and analysis output size from the coded size,
// the display rotation and the options (rotation applied or not).
void SetProbeSizes(ProbeInfo& probe, int width, int height, int rotation, const DecoderOptions& options);

// Pixel format name and bit depth of a libav pixel format (AVPixelFormat as int).
void SetProbePixelFormat(ProbeInfo& probe, int format);

}  // namespace framesift
