// The bounded frame pool (native/frame_pool.cc): back-pressure, generations, pins.
#include <catch2/catch.hpp>

#include <memory>

#include "frame_pool.h"

using namespace framesift;

TEST_CASE("the pool hands out at most its capacity and takes slots back on release") {
  auto pool = std::make_shared<FramePool>(2);
  const int a = pool->Acquire(16, 0), b = pool->Acquire(16, 48);
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  CHECK(a != b);
  CHECK(pool->Acquire(16, 0) == -1);  // full: the decoder must wait
  CHECK(pool->FreeCount() == 0);
  CHECK(pool->GrayBlock(b)->size == 16);
  CHECK(pool->RgbBlock(b)->bytes.size() == 48 + PixelBlock::kTail);
  CHECK(pool->RgbData(a) == nullptr);
  const uint32_t ga = pool->Generation(a);
  CHECK(pool->Release(a, ga));
  CHECK_FALSE(pool->Release(a, ga));  // twice: refused
  CHECK(pool->FreeCount() == 1);
  CHECK(pool->Acquire(16, 0) == a);
  CHECK_FALSE(pool->IsLive(a, ga));  // the reused slot has a new generation
}

TEST_CASE("a pinned frame returns to the pool only after its last unpin") {
  auto pool = std::make_shared<FramePool>(1);
  const int s = pool->Acquire(8, 0);
  const uint32_t g = pool->Generation(s);
  REQUIRE(pool->Pin(s, g));
  REQUIRE(pool->Pin(s, g));
  CHECK(pool->Release(s, g));
  CHECK_FALSE(pool->Pin(s, g));  // released: no new pins
  CHECK(pool->FreeCount() == 0);
  pool->Unpin(s, g);
  CHECK(pool->FreeCount() == 0);
  pool->Unpin(s, g);
  CHECK(pool->FreeCount() == 1);
  CHECK_FALSE(pool->Release(-1, 0));
  CHECK_FALSE(pool->Release(5, 0));
}

TEST_CASE("a ticket returns its slot when dropped, and never outlives the pool badly") {
  auto pool = std::make_shared<FramePool>(1);
  const int s = pool->Acquire(8, 0);
  {
    FrameTicket ticket(pool, s, pool->Generation(s));
    CHECK(pool->FreeCount() == 0);
  }
  CHECK(pool->FreeCount() == 1);
  const int t = pool->Acquire(8, 0);
  auto ticket = std::make_unique<FrameTicket>(pool, t, pool->Generation(t));
  std::shared_ptr<PixelBlock> block = pool->GrayBlock(t);
  pool.reset();  // the decoder closed: the ticket and the block stay safe
  CHECK_FALSE(ticket->Release());
  CHECK(block->size == 8);
}
