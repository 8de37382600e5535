// libFuzzer target: a video opened from memory (custom AVIOContext), probed, then a bounded
// decode at analysis size (gray + RGB, rotation applied). Coded errors (framesift::Error) are
// the expected outcome of bad input; anything else (a crash, a sanitizer report, a leak, a
// hang caught by -timeout) is a finding. Seeds: scripts/make-fuzz-corpus.sh video/.
#include <cstddef>
#include <cstdint>

#include "decoder.h"
#include "drain.h"
#include "errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace framesift;
  DecoderOptions o;
  o.input = "fuzz-input";
  o.memory = MemoryInput{data, size};
  o.analysisSize = 64;
  o.gray = true;
  o.rgb = true;
  o.threads = 1;                 // deterministic: libFuzzer wants the same path per input
  o.maxPixels = 1024 * 1024;     // large enough for the seeds, small enough to stay fast
  o.maxFramesDecoded = 24;       // bounded decode
  // Alternate options by the input's last byte so rotation/sampling paths get inputs too.
  const uint8_t mode = size > 0 ? data[size - 1] : 0;
  if (mode & 1) o.sampling = DecoderOptions::Sampling::Keyframes;
  if (mode & 2) o.rgbFullResolution = true;
  if (mode & 4) o.applyRotation = false;
  if (mode & 8) o.gopHeadSec = 0.1;
  try {
    auto source = OpenFrameSource(o);
    DrainFrames(*source);
    if (mode & 16) {
      source->Seek(0.1);
      DrainFrames(*source);
    }
  } catch (const Error&) {
  }
  return 0;
}
