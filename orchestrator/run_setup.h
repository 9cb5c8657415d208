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
// model keys and constraints, distribution specs (and that their corpus paths exist), names unique, the
// tokenizer's train_on names among the distributions, strategy settings. Throws ConfigError/DataError (exit 2).
struct ValidatedExperiment {
  model::ModelConfig model;
  bool vocab_from_tokenizer = true;  // the file did not set model.vocab_size
  std::vector<data::DistributionSpec> specs;
};
ValidatedExperiment validate_and_resolve(const ExperimentConfig& config, bool check_corpus_paths = true);

// The fully resolved configuration as YAML: every default written out, model and distribution specs included
// (what `grove dump-config` prints and what a run stores; parse_experiment() reads it back to an equal config).
std::string resolved_yaml(const ExperimentConfig& config, const ValidatedExperiment& validated);

// The run for `strategy`: ingests, tokenizes, creates the run row and its phases when new; when the run exists,
// checks that the stored resolved config equals this one (ConfigError naming the first differing line otherwise)
// and appends phases for distributions the file lists beyond the existing ones.
RunContext open_run(registry::Database& db, const ExperimentConfig& config, const ValidatedExperiment& validated,
                    const experiments::StrategyPreset& strategy, const DevicePlan& plan);

// Rebuilds the context of an existing run from the registry alone (tick, eval, resume by name): the stored resolved
// config is parsed again.
RunContext open_existing_run(registry::Database& db, const registry::RunRow& run, const DevicePlan* plan = nullptr);

// The configuration restricted to one strategy (what a run stores and resumes from).
ExperimentConfig config_for_strategy(const ExperimentConfig& config, const experiments::StrategyPreset& strategy);

}  // namespace grove::orch
