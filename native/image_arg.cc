#include "image_arg.h"

#include <memory>

#include "frame_pool.h"

namespace framesift {
namespace {

// Random, fixed: marks the Externals that hold a FrameTicket.
constexpr napi_type_tag kFrameHandleTag = {0x6a1f5e2b9c3d4e71ULL, 0x8b2a47f0d5c6e913ULL};

int ReadDimension(Napi::Object obj, const char* key, const std::string& what) {
  Napi::Value v = obj.Get(key);
  if (!v.IsNumber()) Fail(ErrorCode::InvalidArg, "Expected a number for " + what + "." + key);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 1 << 16) || d != static_cast<int>(d))
    Fail(ErrorCode::InvalidArg, "Expected a whole number from 1 to 65536 for " + what + "." + key +
                                    " but received " + std::to_string(d));
  return static_cast<int>(d);
}

struct Parsed {
  ImageView view;
  Napi::Value owner;
  std::shared_ptr<FrameTicket> ticket;
};

Parsed Parse(Napi::Value value, Plane plane, const std::string& what) {
  if (!value.IsObject()) Fail(ErrorCode::InvalidArg, "Expected an image object for " + what);
  Napi::Object obj = value.As<Napi::Object>();
  Parsed out;
  const char* planeKey = plane == Plane::Gray ? "gray" : "rgb";
  Napi::Value data = obj.Get(planeKey);
  if (data.IsUndefined()) data = obj.Get("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    Fail(ErrorCode::InvalidArg, std::string("Expected a Uint8Array for ") + what + "." + planeKey);
  Napi::Uint8Array bytes = data.As<Napi::Uint8Array>();
  // A decoded frame's RGB plane may be at full resolution (rgbWidth x rgbHeight).
  const bool rgbSized = plane == Plane::Rgb && obj.Has("rgbWidth");
  int width = ReadDimension(obj, rgbSized ? "rgbWidth" : "width", what);
  int height = ReadDimension(obj, rgbSized ? "rgbHeight" : "height", what);
  int channels = plane == Plane::Gray ? 1 : 3;
  Napi::Value ch = obj.Get("channels");
  if (ch.IsNumber() && obj.Get(planeKey).IsUndefined() && ch.As<Napi::Number>().Int32Value() != channels)
    Fail(ErrorCode::InvalidArg, "Expected " + std::to_string(channels) + " channels for " + what);
  int stride = width * channels;
  Napi::Value s = obj.Get("stride");
  if (s.IsNumber()) stride = s.As<Napi::Number>().Int32Value();
  if (stride < width * channels)
    Fail(ErrorCode::InvalidArg, "Expected stride >= width * channels for " + what);
  size_t needed = static_cast<size_t>(stride) * (height - 1) + static_cast<size_t>(width) * channels;
  if (bytes.ByteLength() < needed || bytes.ByteLength() > static_cast<size_t>(stride) * height)
    Fail(ErrorCode::InvalidArg, "Expected " + std::to_string(static_cast<size_t>(stride) * height) +
                                    " bytes for " + what + " (" + std::to_string(width) + "x" +
                                    std::to_string(height) + "x" + std::to_string(channels) +
                                    ") but received " + std::to_string(bytes.ByteLength()));
  Napi::Value handle = obj.Get("handle");
  if (!handle.IsUndefined() && !handle.IsNull()) {
    out.ticket = FrameHandleTicket(handle);
    if (!out.ticket) Fail(ErrorCode::InvalidArg, "Expected a decoded frame's handle for " + what + ".handle");
  }
  out.view = ImageView{bytes.Data(), width, height, stride, channels};
  out.owner = data;
  return out;
}

}  // namespace

Napi::External<std::shared_ptr<FrameTicket>> NewFrameHandle(Napi::Env env, std::shared_ptr<FrameTicket> ticket) {
  auto handle = Napi::External<std::shared_ptr<FrameTicket>>::New(
      env, new std::shared_ptr<FrameTicket>(std::move(ticket)), [](Napi::Env, std::shared_ptr<FrameTicket>* held) { delete held; });
  handle.TypeTag(&kFrameHandleTag);
  return handle;
}

std::shared_ptr<FrameTicket> FrameHandleTicket(Napi::Value value) {
  if (!value.IsExternal()) return nullptr;
  auto handle = value.As<Napi::External<std::shared_ptr<FrameTicket>>>();
  if (!handle.CheckTypeTag(&kFrameHandleTag)) return nullptr;
  return *handle.Data();
}

ImageView ReadImageArg(Napi::Value value, Plane plane, PromiseJob& job, const std::string& what) {
  Parsed parsed = Parse(value, plane, what);
  if (parsed.ticket) {
    if (!parsed.ticket->Pin()) Fail(ErrorCode::InvalidArg, what + " was released: its pixels are no longer valid");
    auto ticket = parsed.ticket;
    job.OnSettled([ticket]() { ticket->Unpin(); });
  }
  job.KeepAlive(parsed.owner);
  return parsed.view;
}

ImageView ReadImageArgSync(Napi::Value value, Plane plane, const std::string& what) {
  Parsed parsed = Parse(value, plane, what);
  if (parsed.ticket) {
    auto owner = parsed.ticket->pool.lock();
    if (!owner || !owner->IsLive(parsed.ticket->slot, parsed.ticket->generation))
      Fail(ErrorCode::InvalidArg, what + " was released: its pixels are no longer valid");
  }
  return parsed.view;
}

}  // namespace framesift
