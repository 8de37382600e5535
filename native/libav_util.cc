#include "libav_util.h"

#include <cstdlib>
#include <mutex>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace framesift {

std::string AvError(int err) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buffer, sizeof(buffer));
  return buffer;
}

void InitLibav() {
  static std::once_flag once;
  std::call_once(once, [] {
    avformat_network_init();
    // Damaged input makes libav print per-packet complaints; framesift reports them as counts
    // and codes instead. FRAMESIFT_LIBAV_LOG=warning|info|debug shows them again.
    const char* level = std::getenv("FRAMESIFT_LIBAV_LOG");
    int value = AV_LOG_QUIET;
    if (level != nullptr) {
      std::string name(level);
      if (name == "error") value = AV_LOG_ERROR;
      else if (name == "warning") value = AV_LOG_WARNING;
      else if (name == "info") value = AV_LOG_INFO;
      else if (name == "debug") value = AV_LOG_DEBUG;
    }
    av_log_set_level(value);
  });
}

}  // namespace framesift
