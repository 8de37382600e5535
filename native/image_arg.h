// Reading images passed from JS to native jobs without copying them: a decoded frame
// ({gray|rgb, width, height, handle}) or a plain image ({data, width, height, stride?,
// channels?}). Decoded frames are pinned for the job's lifetime so release() cannot recycle
// them under a running worker; a released frame is refused with ERR_FRAMESIFT_INVALID_ARG.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "async_job.h"
#include "frame_pool.h"

namespace framesift {

struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;    // bytes per row
  int channels = 1;  // 1 = gray8, 3 = RGB24
};

enum class Plane { Gray, Rgb };

// A decoded frame's `handle`: an External over its ticket, type-tagged so that only handles
// this addon made are ever cast back to a ticket.
Napi::External<std::shared_ptr<FrameTicket>> NewFrameHandle(Napi::Env env, std::shared_ptr<FrameTicket> ticket);
// The ticket behind a frame handle, or null when `value` is not one (any other value,
// including an External made by someone else).
std::shared_ptr<FrameTicket> FrameHandleTicket(Napi::Value value);

// Parses `value` as an image of the given plane for `job`: validates sizes, pins a decoded
// frame until the job settles, and keeps the owning Buffer alive. `what` names the argument
// in error messages, e.g. "frames[3]".
ImageView ReadImageArg(Napi::Value value, Plane plane, PromiseJob& job, const std::string& what);

// The same without a job (synchronous calls): validates only; the caller must not keep the
// pointer beyond the call.
ImageView ReadImageArgSync(Napi::Value value, Plane plane, const std::string& what);

}  // namespace framesift
