#include <napi.h>
namespace framesift {
void InitDecoder(Napi::Env env, Napi::Object exports) {}
}  // namespace framesift
