// Per-environment state (one per main thread or worker thread): no mutable statics, so the
// addon is safe to load in worker_threads (piscina).
#pragma once
#include <napi.h>

namespace framesift {

struct AddonData {
  Napi::FunctionReference errorClass;
  Napi::FunctionReference decoderClass;
};

}  // namespace framesift
