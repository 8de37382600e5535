// A bounded pool of frame slots. The decoder writes frames straight into slot memory; JS sees
// that memory as Buffers without a copy. A slot returns to the pool when JS releases the frame
// (explicitly, or when every Buffer of it has been garbage-collected) and no native job still
// has it pinned. The bounded size is the back-pressure: the decoder stops when no slot is free.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "page_bytes.h"
#include "plane_layout.h"

namespace framesift {

// Pixel memory of one slot. Held by shared_ptr so a Buffer that outlives its frame (or the
// whole decoder) never points at freed memory; a slot that needs a new size gets a new block.
struct PixelBlock {
  // libswscale's SIMD writers may store a few bytes past the last pixel of a packed row;
  // the tail keeps those stores inside the block.
  static constexpr size_t kTail = 64;
  size_t size;     // the frame's bytes, what JS sees
  PageBytes bytes;  // size + kTail, page-aligned: the spill writes the planes from here directly
  explicit PixelBlock(size_t n) : size(n), bytes(n + kTail) {}
};

struct FrameSlot {
  std::shared_ptr<PixelBlock> gray;
  std::shared_ptr<PixelBlock> rgb;
  PlaneLayout planes;       // a deferred-RGB frame: how its rgb block holds the decoded planes
  uint32_t generation = 0;  // bumped on every reuse: a stale frame no longer matches
  bool inUse = false;
  bool releaseRequested = false;
  int pins = 0;
};

class FramePool : public std::enable_shared_from_this<FramePool> {
 public:
  explicit FramePool(int capacity);

  // Threadpool: takes a free slot sized for the given planes, or returns -1 when none is free.
  int Acquire(size_t graySize, size_t rgbSize);
  // Returns a slot that was acquired but not handed to JS (e.g. decode stopped).
  void Abandon(int slot);

  // JS thread: release(frame). False when the frame was already released (stale generation).
  bool Release(int slot, uint32_t generation);
  // JS thread: native jobs pin the frames they read so a release cannot recycle them mid-job.
  // Pin fails (false) for a released or stale frame.
  bool Pin(int slot, uint32_t generation);
  void Unpin(int slot, uint32_t generation);
  bool IsLive(int slot, uint32_t generation);

  uint8_t* GrayData(int slot);
  uint8_t* RgbData(int slot);
  std::shared_ptr<PixelBlock> GrayBlock(int slot);
  std::shared_ptr<PixelBlock> RgbBlock(int slot);
  uint32_t Generation(int slot);
  // Decoder thread, before the frame is handed out: how a deferred-RGB slot holds its planes.
  void SetPlanes(int slot, const PlaneLayout& planes) { slots_[slot].planes = planes; }
  const PlaneLayout& Planes(int slot) const { return slots_[slot].planes; }

  int Capacity() const { return static_cast<int>(slots_.size()); }
  int FreeCount();

 private:
  void ReturnLocked(int slot);
  std::mutex mutex_;
  std::vector<FrameSlot> slots_;
  std::vector<int> free_;
};

}  // namespace framesift

namespace framesift {

// One frame as handed to JS. Every Buffer of the frame and its `handle` hold the ticket; when
// the last of them is garbage-collected the ticket returns the slot (the finalizer safety net).
struct FrameTicket {
  std::weak_ptr<FramePool> pool;
  int slot;
  uint32_t generation;
  FrameTicket(std::weak_ptr<FramePool> p, int s, uint32_t g) : pool(std::move(p)), slot(s), generation(g) {}
  ~FrameTicket() {
    if (auto owner = pool.lock()) owner->Release(slot, generation);
  }
  bool Release() {
    auto owner = pool.lock();
    return owner && owner->Release(slot, generation);
  }
  bool Pin() {
    auto owner = pool.lock();
    return owner && owner->Pin(slot, generation);
  }
  void Unpin() {
    if (auto owner = pool.lock()) owner->Unpin(slot, generation);
  }
};

}  // namespace framesift
