#include "orchestrator/run_driver.h"

#include <fmt/format.h>

#include "common/log.h"

namespace grove::orch {

void record_run_failure(registry::Database& db, int64_t run_id, std::optional<int64_t> phase_id,
                        const std::string& message) {
  try {
    registry::Savepoint record(db);
    registry::set_run_status(db, run_id, registry::RunStatus::kFailed);
    const auto events = registry::list_events(db, run_id);
    const bool said = !events.empty() && events.back().kind == "error" && events.back().message == message;
    if (!said) {  // a failure that repeats on every scheduled tick is recorded once
      registry::record_event(db, {.run_id = run_id, .phase_id = phase_id, .level = log::Level::kError,
                                  .kind = "error", .message = message});
    }
    record.release();
  } catch (const std::exception& error) {
    log::error("the registry could not record the failure of run #{} either: {}", run_id, error.what());
  }
}

namespace {

// A run stopped by a signal: status `interrupted` and an `interrupted` event with `message`.
void record_run_interruption(registry::Database& db, int64_t run_id, std::optional<int64_t> phase_id,
                             const std::string& message) {
  registry::Savepoint record(db);
  registry::set_run_status(db, run_id, registry::RunStatus::kInterrupted);
  registry::record_event(db, {.run_id = run_id, .phase_id = phase_id, .level = log::Level::kWarn,
                              .kind = "interrupted", .message = message});
  record.release();
}

}  // namespace

AdvanceResult advance_run(RunContext& ctx, std::optional<int> max_phases) {
  AdvanceResult result;
  auto& db = ctx.registry();
  for (const auto& phase : registry::list_phases(db, ctx.run.id)) {
    if (phase.status == registry::PhaseStatus::kDone) continue;
    if (max_phases && result.phases_run >= *max_phases) {
      // Waiting for the next tick, with no process behind it: pending, not running.
      registry::set_run_status(db, ctx.run.id, registry::RunStatus::kPending);
      return result;
    }
    registry::set_run_status(db, ctx.run.id, registry::RunStatus::kRunning);
    try {
      result.last = run_phase(ctx, phase);
    } catch (const InterruptedError& stop) {
      // Stopped outside the training loop, in work that polls the stop flag too (preparing a phase's data): what it
      // did was not recorded, so the run is interrupted, as at a step, not failed.
      result.last = {PhaseResult::kInterrupted, stop.exit_code(),
                     fmt::format("{} phase {}: {}", ctx.run.name, phase.idx, stop.what())};
      record_run_interruption(db, ctx.run.id, phase.id, result.last.message);
      return result;
    } catch (const std::exception& error) {
      record_run_failure(db, ctx.run.id, phase.id, fmt::format("phase {}: {}", phase.idx, error.what()));
      throw;
    }
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
