#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <mutex>

#include "common/errors.h"
#include "common/utc_time.h"

namespace grove::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
std::mutex g_write_mutex;

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "?";
}

}  // namespace

void set_level(Level new_level) { g_level.store(new_level); }
void set_format(Format new_format) { g_format.store(new_format); }
Level level() { return g_level.load(); }
Format format() { return g_format.load(); }
bool enabled(Level record_level) { return static_cast<int>(record_level) >= static_cast<int>(g_level.load()); }

Level parse_level(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  throw ConfigError(fmt::format("--log-level: '{}' is not a level; expected debug, info, warn or error", text));
}

Format parse_format(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  throw ConfigError(fmt::format("--log-format: '{}' is not a format; expected text or json", text));
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out;
}

void write(Level record_level, std::string_view message) {
  if (!enabled(record_level)) return;
  const std::string timestamp = utc_now_iso8601_millis();
  std::string line;
  if (g_format.load() == Format::kJson) {
    line = fmt::format("{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":\"{}\"}}\n", timestamp, level_name(record_level),
                       json_escape(message));
  } else {
    line = fmt::format("{} {:<5} {}\n", timestamp, level_name(record_level), message);
  }
  std::lock_guard lock(g_write_mutex);
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) break;  // stderr closed: nothing sensible left to do with a log line
    written += static_cast<size_t>(n);
  }
}

}  // namespace grove::log
