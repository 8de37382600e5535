// Error codes shared by every native module. C++ code throws framesift::Error; the binding
// layer turns it into a FramesiftError (src/errors.ts) with the same stable `code`.
#pragma once
#include <stdexcept>
#include <string>

namespace framesift {

enum class ErrorCode {
  InvalidArg,   // ERR_FRAMESIFT_INVALID_ARG: a caller passed something malformed
  NotFound,     // ERR_FRAMESIFT_NOT_FOUND: the input does not exist
  Open,         // ERR_FRAMESIFT_OPEN: libavformat could not open or parse the input
  NoVideo,      // ERR_FRAMESIFT_NO_VIDEO: the input has no video stream
  Unsupported,  // ERR_FRAMESIFT_UNSUPPORTED: no decoder for the codec
  TooLarge,     // ERR_FRAMESIFT_TOO_LARGE: dimensions above the pixel limit
  Decode,       // ERR_FRAMESIFT_DECODE: the decoder failed beyond recovery
  Truncated,    // ERR_FRAMESIFT_TRUNCATED: the input ends before its declared length
  Closed,       // ERR_FRAMESIFT_CLOSED: the object was closed or disposed
  Busy,         // ERR_FRAMESIFT_BUSY: a call of the same kind is still running
  Model,        // ERR_FRAMESIFT_MODEL: an ONNX model is unusable
  Timeout,      // ERR_FRAMESIFT_TIMEOUT: a network input stalled longer than the read timeout
  Output,       // ERR_FRAMESIFT_OUTPUT: a file under the output folder could not be written or read
  Internal,     // ERR_FRAMESIFT_INTERNAL: a bug or an unexpected library failure
};

inline const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArg: return "ERR_FRAMESIFT_INVALID_ARG";
    case ErrorCode::NotFound: return "ERR_FRAMESIFT_NOT_FOUND";
    case ErrorCode::Open: return "ERR_FRAMESIFT_OPEN";
    case ErrorCode::NoVideo: return "ERR_FRAMESIFT_NO_VIDEO";
    case ErrorCode::Unsupported: return "ERR_FRAMESIFT_UNSUPPORTED";
    case ErrorCode::TooLarge: return "ERR_FRAMESIFT_TOO_LARGE";
    case ErrorCode::Decode: return "ERR_FRAMESIFT_DECODE";
    case ErrorCode::Truncated: return "ERR_FRAMESIFT_TRUNCATED";
    case ErrorCode::Closed: return "ERR_FRAMESIFT_CLOSED";
    case ErrorCode::Busy: return "ERR_FRAMESIFT_BUSY";
    case ErrorCode::Model: return "ERR_FRAMESIFT_MODEL";
    case ErrorCode::Timeout: return "ERR_FRAMESIFT_TIMEOUT";
    case ErrorCode::Output: return "ERR_FRAMESIFT_OUTPUT";
    case ErrorCode::Internal: return "ERR_FRAMESIFT_INTERNAL";
  }
  return "ERR_FRAMESIFT_INTERNAL";
}

struct Error : std::runtime_error {
  ErrorCode code;
  std::string input;  // the file or URL the error is about, when there is one
  std::string cause;  // the underlying library message (libav, OpenCV), when there is one
  Error(ErrorCode c, const std::string& message, std::string in = "", std::string why = "")
      : std::runtime_error(message), code(c), input(std::move(in)), cause(std::move(why)) {}
};

[[noreturn]] inline void Fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

}  // namespace framesift
