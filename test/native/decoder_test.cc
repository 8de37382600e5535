// Frame sources (native/video_source.cc, image_sequence.cc) on the generated corpus
// (scripts/make-fuzz-corpus.sh; FRAMESIFT_CORPUS names its folder): every container and codec
// decodes from a file and from memory, every failed-open kind gives its code, and under
// LeakSanitizer a failed open that leaked its AVFormatContext or file fails the run.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decoder.h"
#include "drain.h"
#include "errors.h"

using namespace framesift;

namespace {
std::string Corpus(const std::string& name) {
  const char* dir = std::getenv("FRAMESIFT_CORPUS");
  return std::string(dir ? dir : "test/.fixtures/fuzz-corpus") + "/" + name;
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

DecoderOptions Options(const std::string& input) {
  DecoderOptions o;
  o.input = input;
  o.analysisSize = 64;
  o.gray = true;
  o.rgb = true;
  o.threads = 2;
  o.maxPixels = 8192 * 8192;
  return o;
}

int DecodeAll(FrameSource& source) { return DrainFrames(source); }

ErrorCode OpenCode(const DecoderOptions& options) {
  try {
    auto source = OpenFrameSource(options);
    DecodeAll(*source);
  } catch (const Error& e) {
    return e.code;
  }
  return ErrorCode::Internal;  // stands for "no error"
}
}  // namespace

TEST_CASE("every container and codec of the corpus decodes from a file and from memory") {
  const std::vector<std::pair<std::string, std::string>> clips = {
      {"h264.mp4", "h264"}, {"h264.ts", "h264"},   {"hevc10.mkv", "hevc"}, {"vp9.webm", "vp9"},
      {"mpeg4.avi", "mpeg4"}, {"mjpeg.mov", "mjpeg"}, {"rotated.mov", "h264"}};
  for (const auto& [name, codec] : clips) {
    INFO(name);
    const std::string path = Corpus("video/" + name);
    auto fromFile = OpenFrameSource(Options(path));
    CHECK(fromFile->Probe().codec == codec);
    CHECK(DecodeAll(*fromFile) == 6);  // 0.6 s at 10 fps
    const std::vector<uint8_t> bytes = ReadAll(path);
    DecoderOptions o = Options(name);
    o.memory = MemoryInput{bytes.data(), bytes.size()};
    auto fromMemory = OpenFrameSource(o);
    CHECK(fromMemory->Probe().codec == codec);
    CHECK(fromMemory->Probe().width == fromFile->Probe().width);
    CHECK(DecodeAll(*fromMemory) == 6);
  }
  CHECK(OpenFrameSource(Options(Corpus("video/hevc10.mkv")))->Probe().bitDepth == 10);
  const ProbeInfo turned = OpenFrameSource(Options(Corpus("video/rotated.mov")))->Probe();
  CHECK((turned.rotation == 90 || turned.rotation == 270));  // a quarter turn: display sizes swap
  CHECK(turned.displayWidth == turned.height);
  CHECK(turned.outputWidth < turned.outputHeight);
}

TEST_CASE("each failed-open kind gives its code and frees what it opened") {
  const std::vector<std::pair<std::string, ErrorCode>> bad = {
      {"audio-only.wav", ErrorCode::NoVideo}, {"not-video.mp4", ErrorCode::Open},
      {"absurd.y4m", ErrorCode::TooLarge},    {"unsupported.mkv", ErrorCode::Unsupported},
      {"cut-header.mp4", ErrorCode::Open},    {"empty.mp4", ErrorCode::Open},
      {"missing.mp4", ErrorCode::NotFound}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& [name, code] : bad) {
      INFO(name);
      CHECK(OpenCode(Options(Corpus("bad/" + name))) == code);
    }
  }
}

TEST_CASE("image sequences decode every file and stop at a bad one with its code") {
  DecoderOptions o = Options("frames");
  o.files = {Corpus("images/a.jpg"), Corpus("images/b.png"), Corpus("images/c.png")};
  auto source = OpenFrameSource(o);
  CHECK(source->Probe().codec == "mjpeg");
  CHECK(DecodeAll(*source) == 3);
  o.files = {Corpus("images/a.jpg"), Corpus("bad/not-video.mp4")};
  CHECK(OpenCode(o) == ErrorCode::Open);
  o.files = {Corpus("bad/audio-only.wav")};
  CHECK(OpenCode(o) == ErrorCode::Open);
}

TEST_CASE("maxFramesDecoded caps the decode and says so") {
  DecoderOptions o = Options(Corpus("video/h264.mp4"));
  o.maxFramesDecoded = 2;
  auto source = OpenFrameSource(o);
  CHECK(DecodeAll(*source) == 2);
  CHECK(source->Stats().capped);
  o.files = {Corpus("images/a.jpg"), Corpus("images/b.png"), Corpus("images/c.png")};
  auto sequence = OpenFrameSource(o);
  CHECK(DecodeAll(*sequence) == 2);
  CHECK(sequence->Stats().capped);
}

TEST_CASE("focal length tags read as plain numbers and EXIF rationals, 0 when unusable") {
  CHECK(FocalLengthTag("28") == 28);
  CHECK(FocalLengthTag("   28") == 28);
  CHECK(FocalLengthTag("26.5") == 26.5);
  CHECK(FocalLengthTag("4200:1000") == Approx(4.2));
  CHECK(FocalLengthTag("42/10") == Approx(4.2));
  CHECK(FocalLengthTag("0") == 0);
  CHECK(FocalLengthTag("-3") == 0);
  CHECK(FocalLengthTag("12:0") == 0);
  CHECK(FocalLengthTag("abc") == 0);
  CHECK(FocalLengthTag("") == 0);
  CHECK(FocalLengthTag(nullptr) == 0);
}
