// `grove dump-config EXPERIMENT.yaml`: the fully resolved configuration (defaults < file < flags), validated;
// given back to `grove run`, it makes the same runs (strategies with their settings, seeds, run names).
#include <fmt/format.h>

#include <memory>

#include "orchestrator/cli/command.h"
#include "orchestrator/run_setup.h"

namespace grove::cli {
namespace {

struct DumpArgs {
  std::string experiment;
  std::vector<std::string> strategies;
  std::vector<std::string> set;
};

int dump_config(const DumpArgs& args) {
  orch::ConfigOverrides overrides;
  overrides.strategies = args.strategies;
  overrides.set = args.set;
  const auto config = orch::load_experiment(args.experiment, overrides);
  const auto validated = orch::validate_and_resolve(config);
  fmt::print("{}", orch::dump_yaml(config, validated));
  if (validated.vocab_from_tokenizer) {
    fmt::print("# model.vocab_size: each run takes its trained tokenizer's (tokenizer.vocab_size above)\n");
  }
  if (!config.model["seed"]) fmt::print("# model.seed: each run's seed\n");
  std::string names;
  for (const auto& run : config.runs()) names += (names.empty() ? "" : ", ") + run.name;
  fmt::print("# runs: {}\n", names);
  return 0;
}

}  // namespace

Command dump_config_command() {
  return {"dump-config", "Print an experiment's fully resolved configuration (defaults, file and flags), validated",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<DumpArgs>();
            app.add_option("experiment", args->experiment, "Experiment YAML file")->required()->check(CLI::ExistingFile);
            app.add_option("--strategy", args->strategies, "Override the strategies (repeatable)");
            app.add_option("--set", args->set, "Override a config value, e.g. --set training.steps=500 (repeatable)");
            return [args] { return dump_config(*args); };
          }};
}

}  // namespace grove::cli
