// Graceful preemption: SIGTERM and SIGINT set a flag that the training loop polls at step boundaries, so the
// current step finishes, a checkpoint is written and the process exits with 143 (SIGTERM) or 130 (SIGINT).
// A second signal of the same kind restores the default action, so a user can still kill a stuck process.
#pragma once

#include "common/errors.h"

namespace grove::orch {

// Installs the handlers (idempotent). Call once at the start of a command that trains.
void install_stop_signal_handlers();

// True once SIGTERM or SIGINT arrived.
bool stop_requested();

// The exit code matching the signal received (143 for SIGTERM, 130 for SIGINT); kSuccess when none arrived.
ExitCode stop_exit_code();

// Forget a received signal (tests, and `watch` between iterations).
void clear_stop_request();

// Pretend a signal arrived (tests drive interruption at an exact step through this).
void request_stop_for_testing(int signal_number);

}  // namespace grove::orch
