// A small process-wide logger on fmt: levels, UTC timestamps, text or JSON lines on stderr.
// Text: "2026-11-29T08:30:00.123Z info  message"; JSON: {"ts":"…","level":"info","msg":"…"} (one object per line).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace grove::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

void set_level(Level level);
void set_format(Format format);
Level level();
Format format();

// Parse "debug|info|warn|error" and "text|json"; throw ConfigError naming the option and the valid values.
Level parse_level(std::string_view text);
Format parse_format(std::string_view text);

// Write one record if `level` is enabled. Thread-safe; each record is one write(2) so lines never interleave.
void write(Level level, std::string_view message);
bool enabled(Level level);

template <typename... Args>
void debug(fmt::format_string<Args...> format_text, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(format_text, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> format_text, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(format_text, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format_text, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(format_text, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> format_text, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(format_text, std::forward<Args>(args)...));
}

// JSON string escaping (quotes, backslashes, control characters) shared with other JSON writers.
std::string json_escape(std::string_view text);

}  // namespace grove::log
