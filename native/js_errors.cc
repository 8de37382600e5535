#include "js_errors.h"

#include "addon_data.h"

namespace framesift {

Napi::Error MakeJsError(Napi::Env env, const Error& error) {
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object obj;
  if (data != nullptr && !data->errorClass.IsEmpty()) {
    obj = data->errorClass.New({Napi::String::New(env, error.what()), Napi::String::New(env, ErrorCodeName(error.code))});
  } else {
    obj = Napi::Error::New(env, error.what()).Value();
    obj.Set("code", ErrorCodeName(error.code));
  }
  if (!error.input.empty()) obj.Set("input", error.input);
  if (!error.cause.empty()) obj.Set("cause", error.cause);
  return Napi::Error(env, obj);
}

void ThrowJs(Napi::Env env, ErrorCode code, const std::string& message) {
  throw MakeJsError(env, Error(code, message));
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    if (!info[0].IsFunction()) ThrowJs(info.Env(), ErrorCode::InvalidArg, "Expected a class for setErrorClass");
    info.Env().GetInstanceData<AddonData>()->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  }));
}

}  // namespace framesift
