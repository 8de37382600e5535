// Turning framesift::Error (and any other C++ exception) into a JS FramesiftError.
#pragma once
#include <napi.h>

#include "errors.h"

namespace framesift {

// Builds the JS error object: the FramesiftError class registered by src/errors.ts when
// there is one, else a plain Error with the same fields.
Napi::Error MakeJsError(Napi::Env env, const Error& error);

// For synchronous calls: throws a JS error (as a C++ Napi::Error exception).
[[noreturn]] void ThrowJs(Napi::Env env, ErrorCode code, const std::string& message);

// Registers the JS error class: exported as setErrorClass(cls).
void InitErrors(Napi::Env env, Napi::Object exports);

// Runs fn, converting framesift::Error / cv::Exception / std::exception into JS exceptions.
template <typename Fn>
auto GuardJs(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw MakeJsError(env, e);
  } catch (const std::exception& e) {
    throw MakeJsError(env, Error(ErrorCode::Internal, e.what()));
  }
}

}  // namespace framesift
