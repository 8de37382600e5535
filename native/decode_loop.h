// The decision after each avcodec_receive_frame in a frame source's Next(): plain logic, kept
// apart so the C++ unit tests can drive it with any sequence of results.
#pragma once
extern "C" {
#include <libavutil/error.h>
}

namespace framesift {

enum class ReceiveStep {
  Frame,  // a frame came out: deliver it
  Feed,   // the decoder wants input: read and send the next packet (or start draining)
  Retry,  // ask again without new input (draining a frame-threaded decoder after an error)
  End,    // the stream is over
};

// Errors a draining decoder may still return before its last buffered frames (one per frame
// thread at most); more in a row means it will never reach EOF.
constexpr int kMaxDrainErrors = 64;

// `err` is receive's result; `errorsInRow` counts the errors just before this one. A decode
// error other than EAGAIN/EOF is counted by the caller and then handled like EAGAIN: asking
// again without feeding input can return the same error forever.
inline ReceiveStep AfterReceive(int err, bool draining, int errorsInRow) {
  if (err == 0) return ReceiveStep::Frame;
  if (err == AVERROR_EOF) return ReceiveStep::End;
  if (!draining) return ReceiveStep::Feed;
  if (err == AVERROR(EAGAIN)) return ReceiveStep::End;  // neither frames nor EOF while draining
  return errorsInRow < kMaxDrainErrors ? ReceiveStep::Retry : ReceiveStep::End;
}

}  // namespace framesift
