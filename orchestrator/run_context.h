// What every step of a run needs in one place: the registry, the run's resolved config and strategy, its
// tokenizer, the model config, the device plan, where its checkpoints go, and opened shards (cached).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <utility>

#include "data_streams/shard_reader.h"
#include "experiments/strategy_presets.h"
#include "model/model_config.h"
#include "orchestrator/device_plan.h"
#include "orchestrator/experiment_config.h"
#include "orchestrator/phase_time_account.h"
#include "registry/registry.h"

namespace grove::orch {

struct RunContext {
  registry::Database* db = nullptr;
  ExperimentConfig config;                 // resolved, with this run's strategy and seed only
  experiments::StrategyPreset strategy;
  registry::RunRow run;
  registry::TokenizerRow tokenizer;
  model::ModelConfig model_config;         // vocab size set from the tokenizer
  DevicePlan plan;
  std::filesystem::path run_dir;           // <work_dir>/<run name>: checkpoints
  std::vector<int64_t> inject_nan_at_steps;  // tests only (fault injection)
  // Where the running phase's time goes; checkpoint saves and evaluations charge themselves to it. Null outside a
  // phase (grove eval): nothing is charged.
  PhaseTimeAccount* phase_time = nullptr;

  registry::Database& registry() { return *db; }

  // The train or holdout shard of a distribution under the run's tokenizer, opened once and verified.
  std::shared_ptr<const data::ShardReader> shard(int64_t distribution_id, registry::Split split);

  // The distinct distributions of the run's phases, in phase order: the columns every evaluation covers.
  std::vector<registry::DistributionRow> timeline_distributions();

 private:
  std::map<std::pair<int64_t, int>, std::shared_ptr<const data::ShardReader>> shards_;
};

}  // namespace grove::orch
