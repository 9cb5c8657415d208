#include "common/utc_time.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace grove {
namespace {

std::string format_utc(bool with_millis) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", parts.tm_year + 1900, parts.tm_mon + 1,
                                 parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  if (with_millis) {
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    text += fmt::format(".{:03}", millis);
  }
  text += 'Z';
  return text;
}

}  // namespace

std::string utc_now_iso8601() { return format_utc(false); }
std::string utc_now_iso8601_millis() { return format_utc(true); }

}  // namespace grove
