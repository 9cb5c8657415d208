// `grove run EXPERIMENT.yaml`: the whole timeline of every strategy (and seed) the file names, resuming by itself
// whatever an earlier invocation left unfinished. Ctrl-C or SIGTERM checkpoints and exits 130/143; run it again to
// resume.
#include <fmt/format.h>

#include <memory>

#include "common/log.h"
#include "common/shell_word.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/registry_command.h"
#include "orchestrator/experiment_runner.h"

namespace grove::cli {
namespace {

struct RunArgs {
  std::string experiment;
  std::string registry;
  std::string work_dir;
  std::vector<std::string> strategies;
  std::vector<std::string> set;
  std::vector<int64_t> inject_nan_at_steps;
};

int run_experiment(const RunArgs& args) {
  orch::ConfigOverrides overrides;
  overrides.strategies = args.strategies;
  overrides.set = args.set;
  if (!args.registry.empty()) overrides.registry = resolve_registry_path(args.registry);
  if (!args.work_dir.empty()) overrides.work_dir = args.work_dir;
  const auto config = orch::load_experiment(args.experiment, overrides);
  orch::ExperimentRunOptions options;
  options.command = "grove run " + args.experiment;
  options.inject_nan_at_steps = args.inject_nan_at_steps;
  const auto outcome = orch::run_experiment(config, options);
  if (outcome.exit_code != 0) {
    fmt::print(stderr, "grove: {}\n", outcome.message);
    return outcome.exit_code;
  }
  if (outcome.run_names.size() == 1) {
    fmt::print("experiment '{}' done; see `grove registry forgetting --registry {} --run {}`\n", config.name,
               shell_word(config.registry.string()), shell_word(outcome.run_names.front()));
  } else {
    std::string names;
    for (const auto& name : outcome.run_names) names += " " + shell_word(name);
    fmt::print("experiment '{}' done ({} runs); compare them with `grove report --registry {} --run{} --out {}`\n",
               config.name, outcome.run_names.size(), shell_word(config.registry.string()), names,
               shell_word(config.name + "-report"));
  }
  return 0;
}

}  // namespace

Command run_command() {
  return {"run", "Run an experiment's whole timeline (every strategy and seed), resuming whatever is unfinished",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<RunArgs>();
            app.add_option("experiment", args->experiment, "Experiment YAML file")->required()->check(CLI::ExistingFile);
            app.add_option("--registry", args->registry,
                           "Registry file (default: the experiment's `registry`)");
            app.add_option("--work-dir", args->work_dir, "Folder for checkpoints (default: the experiment's)");
            app.add_option("--strategy", args->strategies,
                           "Run only this strategy (repeatable): grove, lifelong_moe, finetune, replay, joint");
            app.add_option("--set", args->set, "Override a config value, e.g. --set training.steps=500 (repeatable)");
            app.add_option("--inject-nan-at-step", args->inject_nan_at_steps,
                           "Fault injection for tests: make the loss NaN once at these steps")
                ->group("");
            return [args] { return run_experiment(*args); };
          }};
}

}  // namespace grove::cli
