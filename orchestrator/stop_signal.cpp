#include "orchestrator/stop_signal.h"

#include <csignal>

namespace grove::orch {
namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int signal_number) {
  if (g_signal == signal_number) {
    std::signal(signal_number, SIG_DFL);  // second identical signal: let the default action happen next time
  }
  g_signal = signal_number;
}

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking reads wake up
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

bool stop_requested() { return g_signal != 0; }

ExitCode stop_exit_code() {
  if (g_signal == SIGTERM) return ExitCode::kTerminated;
  if (g_signal == SIGINT) return ExitCode::kInterrupted;
  return ExitCode::kSuccess;
}

void clear_stop_request() { g_signal = 0; }

void request_stop_for_testing(int signal_number) { g_signal = signal_number; }

}  // namespace grove::orch
