// libFuzzer target: the image-sequence reader over one image file held in memory (JPEG, PNG,
// or anything libavformat's image probes accept), decoded with EXIF orientation applied.
// Seeds: scripts/make-fuzz-corpus.sh images/.
#include <cstddef>
#include <cstdint>

#include "decoder.h"
#include "drain.h"
#include "errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace framesift;
  DecoderOptions o;
  o.input = "fuzz-images";
  o.files = {"fuzz-image", "fuzz-image"};  // two frames: the second reuses the scaler cache
  o.memory = MemoryInput{data, size};
  o.analysisSize = 48;
  o.gray = true;
  o.rgb = (size & 1) != 0;
  o.maxPixels = 1024 * 1024;
  try {
    auto source = OpenFrameSource(o);
    DrainFrames(*source, o.rgb);
  } catch (const Error&) {
  }
  return 0;
}
