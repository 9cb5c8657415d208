#include "orchestrator/experiment_runner.h"

#include <fmt/format.h>

#include "common/log.h"
#include "orchestrator/run_driver.h"
#include "orchestrator/run_setup.h"
#include "orchestrator/scheduler_lock.h"
#include "orchestrator/stop_signal.h"

namespace grove::orch {

ExperimentOutcome run_experiment(const ExperimentConfig& config, const ExperimentRunOptions& options) {
  ExperimentOutcome outcome;
  for (const auto& strategy : config.strategies) outcome.run_names.push_back(config.run_name(strategy));
  const auto validated = validate_and_resolve(config);  // nothing is written before this passes
  const auto plan = resolve_device_plan(config.training.device, config.training.precision, config.training.threads);
  apply_device_plan(plan);

  if (config.registry.has_parent_path()) std::filesystem::create_directories(config.registry.parent_path());
  LockHolder holder;
  auto lock = SchedulerLock::try_acquire(config.registry, options.command, &holder);
  if (!lock) {
    outcome.exit_code = kLockBusyExitCode;
    outcome.message = fmt::format(
        "another scheduler holds the lock on {} ({}); nothing was done", config.registry.string(), describe(holder));
    return outcome;
  }
  install_stop_signal_handlers();
  auto db = registry::Database::open(config.registry, registry::OpenMode::kReadWrite);
  log::info("experiment '{}': {} strateg{} on {}, registry {}", config.name, config.strategies.size(),
            config.strategies.size() == 1 ? "y" : "ies", plan.describe(), config.registry.string());
  for (const auto& strategy : config.strategies) {
    auto ctx = open_run(db, config, validated, strategy, plan);
    ctx.inject_nan_at_steps = options.inject_nan_at_steps;
    const auto result = advance_run(ctx);
    if (result.last.result != PhaseResult::kDone) {
      outcome.exit_code = static_cast<int>(result.last.exit_code);
      outcome.message = result.last.message;
      return outcome;
    }
  }
  return outcome;
}

}  // namespace grove::orch
