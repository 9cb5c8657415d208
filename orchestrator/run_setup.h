// Turning an experiment into runs in the registry: validation before anything is written (so a bad file leaves the
// registry untouched), then ingesting the timeline's distributions (no-ops when unchanged), training or reusing
// the run's tokenizer, tokenizing, and creating (or checking) the run and its phase rows.
#pragma once

#include <vector>

#include "data_streams/corpus_spec.h"
#include "orchestrator/experiment_config.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

// Everything validate_experiment() checks, returning the parsed model config and distribution specs:
// model keys and constraints, distribution specs (and that their corpus paths exist, no file looks binary and no
// distribution is only empty files: corpus_probe.h), names unique, the tokenizer's train_on names among the
// distributions, strategy settings. Throws ConfigError/DataError (exit 2).
struct ValidatedExperiment {
  model::ModelConfig model;
  bool vocab_from_tokenizer = true;  // the file did not set model.vocab_size
  std::vector<data::DistributionSpec> specs;
};
ValidatedExperiment validate_and_resolve(const ExperimentConfig& config, bool check_corpus_paths = true);

// The fully resolved configuration as YAML: every default written out, model and distribution specs included
// (what a run stores; parse_experiment() reads it back to an equal config). `seed: N`, or `seeds: [...]` when the
// file listed seeds; the strategy settings as flat `strategy_overrides` for one strategy, as one map per strategy
// for several.
std::string resolved_yaml(const ExperimentConfig& config, const ValidatedExperiment& validated);

// What `grove dump-config` prints: resolved_yaml() less the model keys each run fills in for itself (vocab_size
// when it is the tokenizer's, seed when it follows the run's seed), so that the output, given to `grove run`,
// makes the same runs as the file: strategies, their settings, seeds.
std::string dump_yaml(const ExperimentConfig& config, const ValidatedExperiment& validated);

// The validation of the experiment as it applies to one of its runs: the model's seed is the run's seed unless the
// file sets model.seed.
ValidatedExperiment validated_for_run(const ExperimentConfig& config, const ValidatedExperiment& validated,
                                      const RunSpec& run);

// The run `run` of the experiment: ingests, tokenizes, creates the run row and its phases when new; when the run
// exists, checks that the stored resolved config equals this one (ConfigError naming the first differing line
// otherwise) and appends phases for distributions the file lists beyond the existing ones. A run recorded before
// run names always carried the strategy (one strategy in the file: named just "<name>") is resumed under that
// name when "<name>-<strategy>" does not exist and it trained the same strategy.
RunContext open_run(registry::Database& db, const ExperimentConfig& config, const ValidatedExperiment& validated,
                    const RunSpec& run, const DevicePlan& plan);

// Rebuilds the context of an existing run from the registry alone (tick, eval, resume by name): the stored resolved
// config is parsed again.
RunContext open_existing_run(registry::Database& db, const registry::RunRow& run, const DevicePlan* plan = nullptr);

// A run's stored configuration, parsed; keys the stored text predates read as what the run did when it was made
// (a missing strategy `isolation_weight` or `rehearsal_share` is 0).
ExperimentConfig parse_stored_config(const registry::RunRow& run);

// The configuration restricted to one run: its strategy and its seed (`seeds: [its seed]` when the file listed
// seeds), under the experiment's name (what a run stores and resumes from).
ExperimentConfig config_for_run(const ExperimentConfig& config, const RunSpec& run);

}  // namespace grove::orch
