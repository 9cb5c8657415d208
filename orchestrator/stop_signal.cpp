#include "orchestrator/stop_signal.h"

#include <csignal>

#include "common/stop_flag.h"

namespace grove::orch {
namespace {

extern "C" void on_stop_signal(int signal_number) {
  if (stop_signal_number() == signal_number) {
    std::signal(signal_number, SIG_DFL);  // second identical signal: let the default action happen next time
  }
  note_stop_signal(signal_number);
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

bool stop_requested() { return stop_signal_number() != 0; }

ExitCode stop_exit_code() { return grove::stop_exit_code(); }

void clear_stop_request() { note_stop_signal(0); }

void request_stop_for_testing(int signal_number) { note_stop_signal(signal_number); }

}  // namespace grove::orch
