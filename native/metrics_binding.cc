// Placeholder until the metrics module lands (issue: per-frame quality metrics).
#include <napi.h>
namespace framesift {
void InitMetrics(Napi::Env env, Napi::Object exports) {}
}  // namespace framesift
