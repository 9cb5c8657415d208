#include "orchestrator/run_driver.h"

#include "common/log.h"

namespace grove::orch {

AdvanceResult advance_run(RunContext& ctx, std::optional<int> max_phases) {
  AdvanceResult result;
  auto& db = ctx.registry();
  for (const auto& phase : registry::list_phases(db, ctx.run.id)) {
    if (phase.status == registry::PhaseStatus::kDone) continue;
    if (max_phases && result.phases_run >= *max_phases) return result;
    registry::set_run_status(db, ctx.run.id, registry::RunStatus::kRunning);
    result.last = run_phase(ctx, phase);
    result.phases_run += 1;
    if (result.last.result == PhaseResult::kInterrupted) {
      registry::set_run_status(db, ctx.run.id, registry::RunStatus::kInterrupted);
      return result;
    }
    if (result.last.result == PhaseResult::kFailed) {
      registry::set_run_status(db, ctx.run.id, registry::RunStatus::kFailed);
      return result;
    }
  }
  result.all_done = true;
  registry::set_run_status(db, ctx.run.id, registry::RunStatus::kDone);
  log::info("run '{}': every phase is done", ctx.run.name);
  return result;
}

}  // namespace grove::orch
