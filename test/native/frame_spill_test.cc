// The frame spill (native/frame_spill.cc): direct I/O from page-aligned planes, a page-aligned
// copy for other planes, buffered I/O on request; every path reads back the same bytes.
#include <catch2/catch.hpp>

#include <unistd.h>

extern "C" {
#include <libavutil/pixfmt.h>
}

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "errors.h"
#include "frame_pool.h"
#include "frame_spill.h"
#include "page_bytes.h"

using namespace framesift;

namespace {

// A 64x48 yuv420p layout as the decoder's LayoutOf makes it: planes at 64-byte multiples.
PlaneLayout Yuv420Layout() {
  PlaneLayout l;
  l.format = AV_PIX_FMT_YUV420P;
  l.width = 64;
  l.height = 48;
  l.linesize[0] = 64;
  l.linesize[1] = l.linesize[2] = 32;
  l.offset[0] = 0;
  l.offset[1] = 64 * 48;
  l.offset[2] = l.offset[1] + 32 * 24;
  l.bytes = l.offset[2] + 32 * 24;
  return l;
}

void FillPattern(uint8_t* planes, const PlaneLayout& l, int seed) {
  for (size_t i = 0; i < l.bytes; ++i) planes[i] = static_cast<uint8_t>((i * 7 + seed * 31) & 0xff);
}

std::string SpillPath(const char* name) { return "/tmp/framesift-spill-test-" + std::to_string(::getpid()) + "-" + name; }

std::vector<uint8_t> ReadBackGray(FrameSpill& spill, int id) {
  std::vector<uint8_t> gray(64 * 48 + PixelBlock::kTail);
  spill.ReadGray(id, 64, 48, gray.data());
  gray.resize(64 * 48);
  return gray;
}

}  // namespace

TEST_CASE("the spill writes page-aligned planes directly and stages others, with the same bytes back") {
  const PlaneLayout l = Yuv420Layout();
  FrameSpill direct(SpillPath("direct"));
  FrameSpill buffered(SpillPath("buffered"), false);
  // /tmp is ext4 on the development and CI machines: it takes direct I/O.
  CHECK(direct.Direct());
  CHECK_FALSE(buffered.Direct());

  PageBytes aligned(l.bytes + PixelBlock::kTail);
  std::vector<uint8_t> unaligned(l.bytes + 3);
  std::vector<int> idsDirect, idsBuffered;
  for (int k = 0; k < 3; ++k) {
    FillPattern(aligned.data(), l, k);
    FillPattern(unaligned.data() + 3, l, k);
    // Frames 0 and 2 from page-aligned memory readable to its page end, frame 1 from an odd address.
    if (k == 1) {
      idsDirect.push_back(direct.Append(l, unaligned.data() + 3, l.bytes));
      idsBuffered.push_back(buffered.Append(l, unaligned.data() + 3, l.bytes));
    } else {
      idsDirect.push_back(direct.Append(l, aligned.data(), aligned.capacity()));
      idsBuffered.push_back(buffered.Append(l, aligned.data(), aligned.capacity()));
    }
  }
  CHECK(direct.Direct());  // nothing made it fall back
  // Every record starts on a page.
  CHECK(direct.FileBytes() == 3 * static_cast<int64_t>(PageBytes::RoundUp(l.bytes)));
  CHECK(buffered.FileBytes() == direct.FileBytes());

  for (int k = 0; k < 3; ++k) {
    // The reference: the same conversions of the planes as they were written.
    PageBytes original(l.bytes);
    FillPattern(original.data(), l, k);
    FrameConverter converter;
    std::vector<uint8_t> gray(64 * 48 + PixelBlock::kTail);
    converter.ConvertGray(l, original.data(), 64, 48, gray.data());
    gray.resize(64 * 48);
    CHECK(ReadBackGray(direct, idsDirect[k]) == gray);
    CHECK(ReadBackGray(buffered, idsBuffered[k]) == gray);
    const size_t rgbBytes = 64 * 48 * 3;
    std::vector<uint8_t> rgb(rgbBytes + PixelBlock::kTail), rgbDirect(rgbBytes + PixelBlock::kTail), rgbBuffered(rgbBytes + PixelBlock::kTail);
    converter.ConvertRgb(l, original.data(), rgb.data());
    direct.ReadRgb(idsDirect[k], rgbDirect.data());
    buffered.ReadRgb(idsBuffered[k], rgbBuffered.data());
    rgb.resize(rgbBytes);
    rgbDirect.resize(rgbBytes);
    rgbBuffered.resize(rgbBytes);
    CHECK(rgbDirect == rgb);
    CHECK(rgbBuffered == rgb);
  }
}

TEST_CASE("the spill refuses planes with fewer readable bytes than their layout") {
  const PlaneLayout l = Yuv420Layout();
  FrameSpill spill(SpillPath("short"));
  std::vector<uint8_t> planes(l.bytes);
  try {
    spill.Append(l, planes.data(), l.bytes - 1);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code == ErrorCode::InvalidArg);
  }
  CHECK(spill.FileBytes() == 0);
}

TEST_CASE("page bytes are page-aligned, zeroed and whole pages long") {
  PageBytes bytes(5000);
  CHECK(reinterpret_cast<uintptr_t>(bytes.data()) % PageBytes::kPage == 0);
  CHECK(bytes.size() == 5000);
  CHECK(bytes.capacity() == 8192);
  bool zero = true;
  for (size_t i = 0; i < bytes.capacity(); ++i) zero = zero && bytes.data()[i] == 0;
  CHECK(zero);
  uint8_t* before = bytes.data();
  bytes.Reserve(8000);  // fits: the same block
  CHECK(bytes.data() == before);
  bytes.Reserve(9000);
  CHECK(bytes.capacity() == 12288);
  CHECK(reinterpret_cast<uintptr_t>(bytes.data()) % PageBytes::kPage == 0);
}
