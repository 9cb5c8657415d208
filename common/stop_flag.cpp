#include "common/stop_flag.h"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace grove {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
std::atomic<bool> g_test_point_raised{false};

const char* signal_name(int signal_number) {
  return signal_number == SIGTERM ? "SIGTERM" : signal_number == SIGINT ? "SIGINT" : "a signal";
}

// $GROVE_TEST_SIGTERM_AT, read once (empty when unset).
const std::string& test_point_wanted() {
  static const std::string wanted = [] {
    const char* value = std::getenv("GROVE_TEST_SIGTERM_AT");
    return std::string(value ? value : "");
  }();
  return wanted;
}

}  // namespace

int stop_signal_number() { return g_stop_signal; }

void note_stop_signal(int signal_number) { g_stop_signal = signal_number; }

ExitCode stop_exit_code() {
  if (g_stop_signal == SIGTERM) return ExitCode::kTerminated;
  if (g_stop_signal == SIGINT) return ExitCode::kInterrupted;
  return ExitCode::kSuccess;
}

InterruptedError stopped_error(std::string_view what) {
  return InterruptedError(fmt::format("{} stopped by {} before it finished; nothing of it was recorded; run the same "
                                      "command again to resume",
                                      what, signal_name(g_stop_signal)),
                          stop_exit_code() == ExitCode::kSuccess ? ExitCode::kTerminated : stop_exit_code());
}

bool stop_test_points_on() { return !test_point_wanted().empty(); }

void stop_test_point(std::string_view point) {
  if (test_point_wanted().empty() || point != test_point_wanted()) return;
  if (g_test_point_raised.exchange(true)) return;
  std::raise(SIGTERM);
}

}  // namespace grove
