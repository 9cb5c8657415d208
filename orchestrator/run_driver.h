// Advancing a run through its timeline: the phases in order, each resumed wherever it stopped, with the run's
// status kept in step (running, interrupted, failed, done).
#pragma once

#include <optional>

#include "orchestrator/phase_runner.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

struct AdvanceResult {
  int phases_run = 0;        // phases that did work in this call
  bool all_done = false;     // no unfinished phase left
  PhaseOutcome last;         // the outcome that stopped the loop (interrupted/failed), or done
};

// Runs unfinished phases in index order, at most `max_phases` of them when given (tick runs one).
AdvanceResult advance_run(RunContext& ctx, std::optional<int> max_phases = std::nullopt);

}  // namespace grove::orch
