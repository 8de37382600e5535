#include "libav_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/time.h>
}

#include "errors.h"

namespace framesift {
namespace {
std::string FormatSeconds(double s) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", s);
  return buffer;
}
}  // namespace

std::string AvError(int err) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buffer, sizeof(buffer));
  return buffer;
}

void InitLibav() {
  static std::once_flag once;
  std::call_once(once, [] {
    avformat_network_init();
    // Damaged input makes libav print per-packet complaints; framesift reports them as counts
    // and codes instead. FRAMESIFT_LIBAV_LOG=warning|info|debug shows them again.
    const char* level = std::getenv("FRAMESIFT_LIBAV_LOG");
    int value = AV_LOG_QUIET;
    if (level != nullptr) {
      std::string name(level);
      if (name == "error") value = AV_LOG_ERROR;
      else if (name == "warning") value = AV_LOG_WARNING;
      else if (name == "info") value = AV_LOG_INFO;
      else if (name == "debug") value = AV_LOG_DEBUG;
    }
    av_log_set_level(value);
  });
}

PacketHandle AllocPacket(const std::string& input) {
  PacketHandle packet(av_packet_alloc());
  if (!packet) throw Error(ErrorCode::Internal, input + ": out of memory (packet)", input);
  return packet;
}

FrameHandle AllocFrame(const std::string& input) {
  FrameHandle frame(av_frame_alloc());
  if (!frame) throw Error(ErrorCode::Internal, input + ": out of memory (frame)", input);
  return frame;
}

InputFile::InputFile(const std::string& input, const MemoryInput* memory, double readTimeoutSec) : input_(input) {
  format_ = avformat_alloc_context();
  if (!format_) throw Error(ErrorCode::Internal, input + ": out of memory (format context)", input);
  if (memory != nullptr) {
    memory_ = *memory;
    constexpr int kBufferSize = 1 << 15;
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
    if (buffer) io_ = avio_alloc_context(buffer, kBufferSize, 0, this, &InputFile::ReadMemory, nullptr, &InputFile::SeekMemory);
    if (!io_) {
      av_free(buffer);
      avformat_free_context(format_);
      throw Error(ErrorCode::Internal, input + ": out of memory (I/O context)", input);
    }
    format_->pb = io_;
  }
  if (readTimeoutSec > 0 && memory == nullptr && input.find("://") != std::string::npos) {
    timeoutUs_ = static_cast<int64_t>(readTimeoutSec * 1e6);
    format_->interrupt_callback.callback = &InputFile::Interrupt;
    format_->interrupt_callback.opaque = this;
  }
  Arm();
  // On failure avformat_open_input frees the context (but never a custom pb).
  int err = avformat_open_input(&format_, memory != nullptr ? "" : input.c_str(), nullptr, nullptr);
  if (err < 0) {
    format_ = nullptr;
    if (io_) {
      av_freep(&io_->buffer);
      avio_context_free(&io_);
    }
    ThrowIfTimedOut();
    throw Error(ErrorCode::Open, input + ": cannot open: " + AvError(err), input, AvError(err));
  }
  if (timedOut_) {  // probing settled on the few bytes it had
    avformat_close_input(&format_);
    if (io_) {
      av_freep(&io_->buffer);
      avio_context_free(&io_);
    }
    ThrowIfTimedOut();
  }
}

InputFile::~InputFile() {
  avformat_close_input(&format_);
  if (io_) {
    av_freep(&io_->buffer);  // libav may have replaced the buffer we gave it
    avio_context_free(&io_);
  }
}

void InputFile::Arm() {
  lastPos_ = -1;
  lastProgressUs_ = av_gettime_relative();
}

void InputFile::ThrowIfTimedOut() const {
  if (timedOut_)
    throw Error(ErrorCode::Timeout, input_ + ": no data for " + FormatSeconds(timeoutUs_ / 1e6) + " s (option readTimeoutSec)", input_);
}

void InputFile::FailRead(int err, ErrorCode code, const std::string& what) const {
  ThrowIfTimedOut();
  throw Error(code, input_ + ": " + what + ": " + AvError(err), input_, AvError(err));
}

int InputFile::Interrupt(void* opaque) {
  auto* self = static_cast<InputFile*>(opaque);
  const int64_t now = av_gettime_relative();
  const int64_t pos = self->format_ && self->format_->pb ? self->format_->pb->pos : 0;
  if (pos != self->lastPos_) {  // bytes arrived: the stream is alive
    self->lastPos_ = pos;
    self->lastProgressUs_ = now;
    return 0;
  }
  if (now - self->lastProgressUs_ > self->timeoutUs_) self->timedOut_ = true;
  return self->timedOut_ ? 1 : 0;
}

int InputFile::ReadMemory(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<InputFile*>(opaque);
  const int64_t left = static_cast<int64_t>(self->memory_.size) - self->memoryPos_;
  if (left <= 0) return AVERROR_EOF;
  const int n = static_cast<int>(std::min<int64_t>(left, size));
  std::memcpy(buf, self->memory_.data + self->memoryPos_, n);
  self->memoryPos_ += n;
  return n;
}

int64_t InputFile::SeekMemory(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<InputFile*>(opaque);
  const auto size = static_cast<int64_t>(self->memory_.size);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return size;
  int64_t target;
  if (whence == SEEK_SET) target = offset;
  else if (whence == SEEK_CUR) target = self->memoryPos_ + offset;
  else if (whence == SEEK_END) target = size + offset;
  else return AVERROR(EINVAL);
  if (target < 0 || target > size) return AVERROR(EINVAL);
  self->memoryPos_ = target;
  return target;
}

}  // namespace framesift
