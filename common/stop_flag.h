// The process's stop request: SIGTERM or SIGINT, noted by the handlers orchestrator/stop_signal.h installs, polled by
// long work in every folder (the training loop at step boundaries, ingest per document, tokenizing per chunk,
// tokenizer training while SentencePiece runs) so that it stops where nothing is half-recorded and the command exits
// 143 (SIGTERM) or 130 (SIGINT), resumable. It lives here, not beside the handlers, because data_streams polls it too.
#pragma once

#include <string_view>

#include "common/errors.h"

namespace grove {

// The signal that asked this process to stop (SIGTERM, SIGINT); 0 while none did.
int stop_signal_number();
// Notes `signal_number` as the stop request (async-signal-safe: the handlers call it); 0 forgets it.
void note_stop_signal(int signal_number);

// The exit code of a stopped command: 143 for SIGTERM, 130 for SIGINT, kSuccess when no signal arrived.
ExitCode stop_exit_code();

// InterruptedError (with stop_exit_code()) saying that `what` stopped on the signal before it finished and nothing of
// it was recorded. Callers throw it where they poll: `if (stop_signal_number() != 0) throw stopped_error(...)`.
InterruptedError stopped_error(std::string_view what);

// Test-only fault injection, so that tests stop a command at an exact point instead of racing a timer: when the
// environment variable GROVE_TEST_SIGTERM_AT equals `point`, the process raises SIGTERM here, the first time only.
// Points: "step:<n>" (the training loop, once step n of a phase is done: logged and checkpointed), "ingest:<name>"
// (after the first document of distribution <name> is stored), "tokenize:<name>" (after its first chunk of
// documents is encoded), and the `what` of run_stoppable (common/stoppable_work.h) once its worker started, e.g.
// "SentencePiece training".
bool stop_test_points_on();  // whether GROVE_TEST_SIGTERM_AT is set (callers skip building point names otherwise)
void stop_test_point(std::string_view point);

}  // namespace grove
