#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/log.h"

namespace grove {

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (std::fabs(bytes) >= 1000.0 && unit < 4) {
    bytes /= 1000.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<uint64_t>(std::llround(seconds));
  return fmt::format("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
}

ProgressMeter::ProgressMeter(ProgressOptions options)
    : options_(std::move(options)), origin_(std::chrono::steady_clock::now()) {
  using Mode = ProgressOptions::Mode;
  if (options_.mode == Mode::kAuto) {
    options_.mode = ::isatty(STDERR_FILENO) ? Mode::kLiveLine : Mode::kLogLines;
  }
  live_ = options_.mode == Mode::kLiveLine;
  start_ = now();
  last_print_ = start_;
}

ProgressMeter::~ProgressMeter() {
  std::lock_guard lock(mutex_);
  if (live_line_open_ && !options_.sink) std::fputs("\n", stderr);
}

double ProgressMeter::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin_).count();
}

double ProgressMeter::elapsed_s() const { return now() - start_; }

uint64_t ProgressMeter::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

void ProgressMeter::update(uint64_t done, std::string_view detail) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  done_ = done;
  if (!detail.empty()) detail_ = detail;
  maybe_print_locked();
}

void ProgressMeter::advance(uint64_t delta, std::string_view detail) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  done_ += delta;
  if (!detail.empty()) detail_ = detail;
  maybe_print_locked();
}

void ProgressMeter::maybe_print_locked() {
  if (options_.mode == ProgressOptions::Mode::kSilent) return;
  const double at = now();
  const double interval = live_ ? options_.live_interval_s : options_.log_interval_s;
  if (at - last_print_ < interval) return;
  last_print_ = at;
  emit_locked(render_locked(at), live_);
}

void ProgressMeter::finish(std::string_view summary) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (options_.mode == ProgressOptions::Mode::kSilent) return;
  const double at = now();
  std::string line = fmt::format("{}: done in {}", options_.label, format_duration(at - start_));
  if (!summary.empty()) line += fmt::format(", {}", summary);
  emit_locked(line, false);
}

void ProgressMeter::emit_locked(const std::string& line, bool live) {
  if (options_.sink) {
    options_.sink(line, live);
    return;
  }
  if (live) {
    // Carriage return, the line, then clear to the end of the line: the previous, longer text disappears.
    std::fputs(fmt::format("\r{}\x1b[K", line).c_str(), stderr);
    std::fflush(stderr);
    live_line_open_ = true;
    return;
  }
  if (live_line_open_) {
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    live_line_open_ = false;
  }
  log::info("{}", line);
}

std::string ProgressMeter::render() const {
  std::lock_guard lock(mutex_);
  return render_locked(now());
}

std::string ProgressMeter::render_locked(double at) const {
  const bool bytes = options_.unit == ProgressUnit::kBytes;
  auto amount = [&](uint64_t value) {
    return bytes ? format_bytes(static_cast<double>(value)) : fmt::format("{}", value);
  };
  std::string line = fmt::format("{}: {}", options_.label, amount(done_));
  if (options_.total > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(options_.total));
    line += fmt::format(" / {} ({:.0f}%)", amount(options_.total), 100.0 * fraction);
  }
  if (!bytes) line += " " + options_.count_name;
  const double elapsed = at - start_;
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  if (rate > 0) {
    line += bytes ? fmt::format(", {}/s", format_bytes(rate)) : fmt::format(", {:.1f} {}/s", rate, options_.count_name);
    if (options_.total > done_) {
      line += fmt::format(", ETA {}", format_duration(static_cast<double>(options_.total - done_) / rate));
    }
  }
  if (!detail_.empty()) line += fmt::format(", {}", detail_);
  return line;
}

}  // namespace grove
