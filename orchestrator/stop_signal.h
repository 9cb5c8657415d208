// Graceful preemption: SIGTERM and SIGINT note a stop request (common/stop_flag.h) that long work polls: the
// training loop at step boundaries (the current step finishes and an `interrupt` checkpoint is written), ingest,
// tokenizing and tokenizer training (they stop with nothing of theirs recorded). The command then exits with 143
// (SIGTERM) or 130 (SIGINT). A second signal of the same kind restores the default action, so a user can still kill
// a stuck process.
#pragma once

#include "common/errors.h"

namespace grove::orch {

// Installs the handlers (idempotent). Call once at the start of a command that trains or ingests.
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
