#include "orchestrator/experiment_runner.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "common/file_permissions.h"
#include "common/log.h"
#include "orchestrator/run_driver.h"
#include "orchestrator/run_setup.h"
#include "orchestrator/scheduler_lock.h"
#include "orchestrator/stop_signal.h"

namespace grove::orch {
namespace {

// The work folder must be a folder, or creatable as one: checked before the registry, ingest or the tokenizer do
// any work (a file in its way would otherwise fail the first checkpoint, after all of that).
void check_work_dir(const std::filesystem::path& work_dir) {
  std::filesystem::path probe = work_dir;
  std::error_code error;
  while (!probe.empty() && !std::filesystem::exists(probe, error)) probe = probe.parent_path();
  if (!probe.empty() && !std::filesystem::is_directory(probe, error)) {
    throw ConfigError(fmt::format("work_dir {}: {} is a file, not a folder; give a folder for the checkpoints (a new "
                                  "one or an earlier run's)",
                                  work_dir.string(), probe.string()));
  }
}

}  // namespace

ExperimentOutcome run_experiment(const ExperimentConfig& config, const ExperimentRunOptions& options) {
  ExperimentOutcome outcome;
  const auto runs = config.runs();
  for (const auto& run : runs) outcome.run_names.push_back(run.name);
  const auto validated = validate_and_resolve(config);  // nothing is written before this passes
  const auto plan = resolve_device_plan(config.training.device, config.training.precision, config.training.threads);
  apply_device_plan(plan);
  check_work_dir(config.work_dir);

  if (config.registry.has_parent_path()) std::filesystem::create_directories(config.registry.parent_path());
  // Everything this run writes from here (grove-data, checkpoints, sketches, rehearsal pools, the lock file) is no
  // more readable than the registry's folder, wherever the work folder is.
  narrow_umask_to_folder(std::filesystem::absolute(config.registry).parent_path());
  // Refuse a file that is no registry before the lock file is made beside it (a refused file is left untouched, with
  // nothing beside it; an older registry is migrated, as by any command that writes to it).
  if (std::filesystem::exists(config.registry)) {
    registry::Database::open(config.registry, registry::OpenMode::kReadWrite);
  }
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
  log::info("experiment '{}': {} strateg{} × {} seed{} on {}, registry {}", config.name, config.strategies.size(),
            config.strategies.size() == 1 ? "y" : "ies", runs.size() / config.strategies.size(),
            runs.size() == config.strategies.size() ? "" : "s", plan.describe(), config.registry.string());
  for (size_t i = 0; i < runs.size(); ++i) {
    auto ctx = open_run(db, config, validated, runs[i], plan);
    outcome.run_names[i] = ctx.run.name;  // a run recorded under its earlier name keeps it
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
