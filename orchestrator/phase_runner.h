// Drives one phase through its registry state machine, resuming wherever it stopped:
//   pending      -> prepare (evaluate, decide, grow, freeze), step-0 checkpoint, training
//   training     -> resume from the newest checkpoint (a crash left it here)
//   interrupted  -> resume from the newest checkpoint (SIGTERM/SIGINT left it here)
//   evaluating   -> reload the phase-end model and evaluate again
// then train, write the phase-end checkpoint, evaluate every timeline distribution, and mark it done.
#pragma once

#include "common/errors.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

enum class PhaseResult { kDone, kInterrupted, kFailed };

struct PhaseOutcome {
  PhaseResult result = PhaseResult::kDone;
  ExitCode exit_code = ExitCode::kSuccess;  // 143/130 when interrupted, 1 when failed
  std::string message;
};

PhaseOutcome run_phase(RunContext& ctx, const registry::PhaseRow& phase);

}  // namespace grove::orch
