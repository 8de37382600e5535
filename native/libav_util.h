// Small libav helpers shared by the frame sources: error strings, one-time init, owning
// holders (so a constructor that throws half-way frees what it opened), and the input opener
// (a path, a URL with a stall watchdog, or bytes in memory through a custom AVIOContext).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "decoder.h"
#include "errors.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace framesift {

// libav's message for an error code.
std::string AvError(int err);

// One-time global libav set-up (network, quiet logging unless FRAMESIFT_LIBAV_LOG is set).
void InitLibav();

struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using CodecHandle = std::unique_ptr<AVCodecContext, CodecFreer>;
using PacketHandle = std::unique_ptr<AVPacket, PacketFreer>;
using FrameHandle = std::unique_ptr<AVFrame, FrameFreer>;

// A packet and a frame, or Error(Internal) when either allocation fails.
PacketHandle AllocPacket(const std::string& input);
FrameHandle AllocFrame(const std::string& input);

// An opened libavformat input. Owns the AVFormatContext and, for memory input, the custom
// AVIOContext (which avformat_close_input leaves alone). For URL inputs with a read timeout,
// an interrupt callback ends any blocking read that has received no byte for that long; call
// Arm() before each blocking libav call so time spent decoding is not counted as a stall.
class InputFile {
 public:
  // Throws Error(Open) naming `input` when libavformat cannot open it, Error(Timeout) when
  // the open stalled.
  InputFile(const std::string& input, const MemoryInput* memory, double readTimeoutSec);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  AVFormatContext* get() const { return format_; }
  void Arm();
  // True once the watchdog interrupted a read: the caller reports Error(Timeout).
  bool TimedOut() const { return timedOut_; }
  // Throws Error(Timeout) when the watchdog fired, else Error(code) with `what` and libav's message.
  [[noreturn]] void FailRead(int err, ErrorCode code, const std::string& what) const;
  // After a call that "succeeded" on the data it had when interrupted (probing, stream info).
  void ThrowIfTimedOut() const;

 private:
  static int Interrupt(void* opaque);
  static int ReadMemory(void* opaque, uint8_t* buf, int size);
  static int64_t SeekMemory(void* opaque, int64_t offset, int whence);

  std::string input_;
  AVFormatContext* format_ = nullptr;
  AVIOContext* io_ = nullptr;
  MemoryInput memory_;
  int64_t memoryPos_ = 0;
  int64_t timeoutUs_ = 0;  // 0: no watchdog
  int64_t lastPos_ = -1;
  int64_t lastProgressUs_ = 0;
  bool timedOut_ = false;
};

}  // namespace framesift
