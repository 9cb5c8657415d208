// Progress for long work (ingest, tokenization, training steps): done/total, rate, ETA.
// On a terminal one live line is redrawn at most a few times a second; otherwise (a log file, cron, CI) a plain
// log record every few seconds, so logs stay short. The clock and the output are injectable for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace grove {

enum class ProgressUnit { kBytes, kCount };

struct ProgressOptions {
  std::string label;                 // "ingest en_fortunes"
  uint64_t total = 0;                // 0: unknown (no percentage, no ETA)
  ProgressUnit unit = ProgressUnit::kCount;
  std::string count_name = "items";  // kCount only: "steps", "docs"
  // Output mode. Unset: live line when stderr is a terminal, log records otherwise.
  enum class Mode { kAuto, kLiveLine, kLogLines, kSilent } mode = Mode::kAuto;
  double live_interval_s = 0.25;     // at most 4 redraws a second on a terminal
  double log_interval_s = 5.0;       // one log record every 5 s otherwise
  // Test hooks: seconds since an arbitrary origin, and where finished lines go (default: stderr or the logger).
  std::function<double()> clock;
  std::function<void(std::string_view line, bool live)> sink;
};

// "1.5 MB", "812 B", "3.2 GB" (decimal units, as MB/s figures are usually quoted).
std::string format_bytes(double bytes);
// "0:00:07", "1:02:03"; "?" for negative or non-finite values.
std::string format_duration(double seconds);

class ProgressMeter {
 public:
  explicit ProgressMeter(ProgressOptions options);
  ~ProgressMeter();  // ends a live line cleanly if finish() was not called
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  // Set the amount done so far (absolute) and an optional detail ("3,400 docs"); prints when an interval passed.
  // Thread-safe.
  void update(uint64_t done, std::string_view detail = {});
  // Add to the amount done. Thread-safe.
  void advance(uint64_t delta, std::string_view detail = {});
  // Print the final line (the summary is appended) and stop; later updates are ignored.
  void finish(std::string_view summary = {});

  // The status line as it would be printed now: "label: 1.2 MB / 2.5 MB (48%), 12.3 MB/s, ETA 0:00:02, detail".
  std::string render() const;
  double elapsed_s() const;
  uint64_t done() const;

 private:
  double now() const;
  std::string render_locked(double at) const;
  void emit_locked(const std::string& line, bool live);
  void maybe_print_locked();

  ProgressOptions options_;
  bool live_ = false;
  bool finished_ = false;
  bool live_line_open_ = false;
  double start_ = 0;
  double last_print_ = 0;
  uint64_t done_ = 0;
  std::string detail_;
  std::chrono::steady_clock::time_point origin_;
  mutable std::mutex mutex_;
};

}  // namespace grove
