#include "frame_pool.h"

namespace framesift {

FramePool::FramePool(int capacity) : slots_(capacity) {
  free_.reserve(capacity);
  for (int i = capacity - 1; i >= 0; --i) free_.push_back(i);
}

int FramePool::Acquire(size_t graySize, size_t rgbSize) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.empty()) return -1;
  int id = free_.back();
  free_.pop_back();
  FrameSlot& slot = slots_[id];
  // Reuse the block whenever its size fits (the steady state allocates nothing): a released
  // frame's Buffers may then show newer pixels, which the release() contract allows. A size
  // change gets a new block, so old Buffers keep valid (if stale) memory.
  auto fit = [](std::shared_ptr<PixelBlock>& block, size_t size) {
    if (size == 0) {
      block.reset();
    } else if (!block || block->size != size) {
      block = std::make_shared<PixelBlock>(size);
    }
  };
  fit(slot.gray, graySize);
  fit(slot.rgb, rgbSize);
  slot.planes = PlaneLayout{};
  slot.inUse = true;
  slot.releaseRequested = false;
  slot.pins = 0;
  slot.generation++;
  return id;
}

void FramePool::Abandon(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ReturnLocked(id);
}

void FramePool::ReturnLocked(int id) {
  FrameSlot& slot = slots_[id];
  slot.inUse = false;
  slot.releaseRequested = false;
  slot.pins = 0;
  slot.generation++;
  free_.push_back(id);
}

bool FramePool::Release(int id, uint32_t generation) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id < 0 || id >= static_cast<int>(slots_.size())) return false;
  FrameSlot& slot = slots_[id];
  if (!slot.inUse || slot.generation != generation || slot.releaseRequested) return false;
  slot.releaseRequested = true;
  if (slot.pins == 0) ReturnLocked(id);
  return true;
}

bool FramePool::Pin(int id, uint32_t generation) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id < 0 || id >= static_cast<int>(slots_.size())) return false;
  FrameSlot& slot = slots_[id];
  if (!slot.inUse || slot.generation != generation || slot.releaseRequested) return false;
  slot.pins++;
  return true;
}

void FramePool::Unpin(int id, uint32_t generation) {
  std::lock_guard<std::mutex> lock(mutex_);
  FrameSlot& slot = slots_[id];
  if (!slot.inUse || slot.generation != generation) return;
  if (--slot.pins == 0 && slot.releaseRequested) ReturnLocked(id);
}

bool FramePool::IsLive(int id, uint32_t generation) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id < 0 || id >= static_cast<int>(slots_.size())) return false;
  const FrameSlot& slot = slots_[id];
  return slot.inUse && slot.generation == generation && !slot.releaseRequested;
}

uint8_t* FramePool::GrayData(int id) { return slots_[id].gray ? slots_[id].gray->bytes.data() : nullptr; }
uint8_t* FramePool::RgbData(int id) { return slots_[id].rgb ? slots_[id].rgb->bytes.data() : nullptr; }
std::shared_ptr<PixelBlock> FramePool::GrayBlock(int id) { return slots_[id].gray; }
std::shared_ptr<PixelBlock> FramePool::RgbBlock(int id) { return slots_[id].rgb; }
uint32_t FramePool::Generation(int id) { return slots_[id].generation; }

int FramePool::FreeCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(free_.size());
}

}  // namespace framesift
