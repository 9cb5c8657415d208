// Advancing a run through its timeline: the phases in order, each resumed wherever it stopped, with the run's
// status kept in step (running, interrupted, failed, done), including when an error escapes a phase.
#pragma once

#include <optional>
#include <string>

#include "orchestrator/phase_runner.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

struct AdvanceResult {
  int phases_run = 0;     // phases that did work in this call
  bool all_done = false;  // no unfinished phase left
  PhaseOutcome last;      // the outcome that stopped the loop (interrupted/failed), or done
};

// Runs unfinished phases in index order, at most `max_phases` of them when given (tick runs one). An exception
// escaping a phase (a full disk, a missing shard, a corrupt file) is recorded with record_run_failure() and
// rethrown; an InterruptedError (SIGTERM/SIGINT acted on outside the training loop) makes the run
// `interrupted` (with an `interrupted` event) and is returned as an interrupted outcome, like a stop at a step.
AdvanceResult advance_run(RunContext& ctx, std::optional<int> max_phases = std::nullopt);

// Records that a run stopped on an error: status `failed` and an `error` event with `message` (not repeated when
// the run's newest event already says the same). Never throws: when the registry cannot be written either (the
// disk is full), the failure is logged, and readers show the run as interrupted once this process is gone.
void record_run_failure(registry::Database& db, int64_t run_id, std::optional<int64_t> phase_id,
                        const std::string& message);

}  // namespace grove::orch
