// Small libav helpers shared by the frame sources.
#pragma once
#include <string>

namespace framesift {

// libav's message for an error code.
std::string AvError(int err);

// One-time global libav set-up (network, quiet logging unless FRAMESIFT_LIBAV_LOG is set).
void InitLibav();

}  // namespace framesift
