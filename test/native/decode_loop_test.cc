// The receive loop's decision (native/decode_loop.h): a decode error must lead to new input,
// never to asking again forever.
#include <catch2/catch.hpp>

#include "decode_loop.h"

using namespace framesift;

TEST_CASE("receive results map to the next step") {
  CHECK(AfterReceive(0, false, 0) == ReceiveStep::Frame);
  CHECK(AfterReceive(AVERROR_EOF, false, 0) == ReceiveStep::End);
  CHECK(AfterReceive(AVERROR(EAGAIN), false, 0) == ReceiveStep::Feed);
  CHECK(AfterReceive(AVERROR(EAGAIN), true, 0) == ReceiveStep::End);
}

TEST_CASE("a repeating decode error feeds input or ends, within a bounded number of steps") {
  // A decoder that returns the same error on every call, as a broken stream can.
  const int errors[] = {AVERROR_INVALIDDATA, AVERROR(EINVAL), AVERROR(ENOMEM), AVERROR_BUG};
  for (int err : errors) {
    CHECK(AfterReceive(err, false, 0) == ReceiveStep::Feed);
    CHECK(AfterReceive(err, false, 1000) == ReceiveStep::Feed);
    // Draining: a few retries for frames still inside frame threads, then the end.
    int steps = 0, inRow = 0;
    while (AfterReceive(err, true, inRow) == ReceiveStep::Retry && steps < 10000) {
      ++inRow;
      ++steps;
    }
    CHECK(steps == kMaxDrainErrors);
    CHECK(AfterReceive(err, true, inRow) == ReceiveStep::End);
  }
}
