// Placeholder until the geometry module lands (issue: SIFT, matching, RANSAC, tracks).
#include <napi.h>
namespace framesift {
void InitGeometry(Napi::Env env, Napi::Object exports) {}
}  // namespace framesift
