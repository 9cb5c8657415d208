// `grove tick` and `grove watch`: the scheduled job. tick ingests ready inbox items, runs or resumes the next
// unfinished phase and exits (cron, systemd timers, Slurm); watch does the same in a loop.
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "common/file_permissions.h"
#include "common/log.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/registry_command.h"
#include "orchestrator/cli/scheduler_commands.h"
#include "orchestrator/scheduler.h"
#include "orchestrator/stop_signal.h"
#include "registry/database.h"

namespace grove::cli {
namespace {

struct TickArgs {
  std::string registry;
  std::string inbox;
  std::string run;
  std::vector<std::string> allow_roots;
  double interval_s = 60;
};

orch::TickOptions tick_options(const TickArgs& args) {
  orch::TickOptions options;
  options.registry = resolve_registry_path(args.registry);
  if (!std::filesystem::exists(options.registry)) {
    throw RegistryError(fmt::format("{}: no registry here; create runs with `grove run EXPERIMENT.yaml` first",
                                    options.registry.string()),
                        ExitCode::kBadInput);
  }
  // Refuse a file that is no registry before the lock file is made beside it (a refused file is left untouched; an
  // older registry is migrated, as by any command that writes to it).
  registry::Database::open(options.registry, registry::OpenMode::kReadWrite);
  if (!args.inbox.empty()) options.inbox = args.inbox;
  if (!args.run.empty()) options.run = args.run;
  for (const auto& root : args.allow_roots) {
    std::error_code error;
    if (!std::filesystem::is_directory(root, error)) {
      throw ConfigError(fmt::format("--allow-root {}: not a folder (name a folder inbox items may read from)", root));
    }
    options.allowed_roots.push_back(std::filesystem::canonical(root));
  }
  return options;
}

int tick(const TickArgs& args) {
  const auto options = tick_options(args);
  narrow_umask_to_folder(std::filesystem::absolute(options.registry).parent_path());  // what it writes: no wider
  auto lock = take_scheduler_lock(options.registry, "grove tick");
  if (!lock) return orch::kLockBusyExitCode;
  orch::install_stop_signal_handlers();
  const auto result = orch::tick_once(options);
  fmt::print("{}\n", result.summary);
  return result.exit_code;
}

int watch(const TickArgs& args) {
  const auto options = tick_options(args);
  if (!options.inbox) throw ConfigError("grove watch: --inbox DIR is required (the folder to watch)");
  if (!(args.interval_s > 0)) throw ConfigError("--interval: expected a positive number of seconds");
  narrow_umask_to_folder(std::filesystem::absolute(options.registry).parent_path());  // what it writes: no wider
  auto lock = take_scheduler_lock(options.registry, "grove watch");
  if (!lock) return orch::kLockBusyExitCode;
  orch::install_stop_signal_handlers();
  log::info("watching {} every {} s (Ctrl-C or SIGTERM to stop)", options.inbox ? options.inbox->string() : "no inbox",
            args.interval_s);
  while (!orch::stop_requested()) {
    const auto result = orch::tick_once(options);
    if (result.phases_run > 0 || result.ingested > 0 || result.failed_items > 0) log::info("{}", result.summary);
    if (orch::stop_requested()) return result.exit_code != 0 ? result.exit_code : static_cast<int>(orch::stop_exit_code());
    if (result.phases_run > 0) continue;  // more may be pending: no sleep between phases
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(args.interval_s);
    while (!orch::stop_requested() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return static_cast<int>(orch::stop_exit_code());
}

void add_common_options(CLI::App& app, TickArgs& args) {
  app.add_option("--registry", args.registry, "Registry file (default $GROVE_REGISTRY, then ./grove.db)");
  app.add_option("--inbox", args.inbox, "Folder of new distributions, one folder each with a distribution.yaml");
  app.add_option("--run", args.run, "Advance only this run (default: every run that has not failed)");
  app.add_option("--allow-root", args.allow_roots,
                 "A folder inbox items may read corpus files from besides their own folder (repeatable)");
}

}  // namespace

Command tick_command() {
  return {"tick", "Ingest ready inbox items, run or resume the next unfinished phase, then exit (for cron/Slurm)",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<TickArgs>();
            add_common_options(app, *args);
            return [args] { return tick(*args); };
          }};
}

Command watch_command() {
  return {"watch", "Do what tick does in a loop, sleeping --interval seconds when there is nothing to do",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<TickArgs>();
            add_common_options(app, *args);
            app.add_option("--interval", args->interval_s, "Seconds between checks when idle (default 60)");
            return [args] { return watch(*args); };
          }};
}

}  // namespace grove::cli
