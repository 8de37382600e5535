// Which decoded frames a source delivers, by presentation time: the time range, a target
// rate (time-based, so VFR-safe), and a list of wanted times. Shared by the video and the
// image-sequence sources.
#pragma once
#include <cstddef>

#include "decoder.h"

namespace framesift {

class FrameSchedule {
 public:
  enum class Verdict { Take, Skip, End };

  explicit FrameSchedule(const DecoderOptions& options) : options_(options) { Restart(options.start > 0 ? options.start : 0); }

  // After a seek: nothing before `seconds`, and the rate's targets start there.
  void Restart(double seconds) {
    floor_ = seconds;
    nextTarget_ = seconds;
  }

  Verdict Decide(double pts) {
    if (pts < floor_ - kEps) return Verdict::Skip;
    if (options_.end >= 0 && pts > options_.end + kEps) return Verdict::End;
    if (!options_.wantedPts.empty()) {
      const auto& wanted = options_.wantedPts;
      while (wanted_ < wanted.size() && wanted[wanted_] < pts - kEps) wanted_++;  // not in the stream
      if (wanted_ >= wanted.size()) return Verdict::End;
      if (pts < wanted[wanted_] - kEps) return Verdict::Skip;
      wanted_++;
    }
    if (options_.sampling == DecoderOptions::Sampling::Fps) {
      if (pts < nextTarget_ - kEps) return Verdict::Skip;
      // Advance past this frame's time: a gap in a VFR stream skips targets, never doubles up.
      while (nextTarget_ <= pts + kEps) nextTarget_ += 1.0 / options_.fps;
    }
    return Verdict::Take;
  }

  // The next wanted time not yet delivered (for seeking ahead), or nullptr.
  const double* NextWanted() const { return wanted_ < options_.wantedPts.size() ? &options_.wantedPts[wanted_] : nullptr; }
  size_t NextWantedIndex() const { return wanted_; }

  static constexpr double kEps = 1e-3;  // timestamps in seconds: well under a frame at 240 fps

 private:
  const DecoderOptions& options_;
  double floor_ = 0;
  double nextTarget_ = 0;
  size_t wanted_ = 0;
};

}  // namespace framesift
