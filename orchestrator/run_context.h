// What every step of a run needs in one place: the registry, the run's resolved config and strategy, its
// tokenizer, the model config, the device plan, where its checkpoints go, and opened shards (cached).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <tuple>
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
  // The tokenizer of the phase being worked on and the model config with its vocabulary: the run's own tokenizer
  // until vocabulary growth gives a phase a grown one (enter_phase switches them).
  registry::TokenizerRow tokenizer;
  model::ModelConfig model_config;         // vocab size set from the tokenizer
  int64_t run_vocab_size = 0;              // the model's vocabulary under the run's own tokenizer
  DevicePlan plan;
  std::filesystem::path run_dir;           // <work_dir>/<run name>: checkpoints
  std::vector<int64_t> inject_nan_at_steps;  // tests only (fault injection)
  // Where the running phase's time goes; checkpoint saves and evaluations charge themselves to it. Null outside a
  // phase (grove eval): nothing is charged.
  PhaseTimeAccount* phase_time = nullptr;

  registry::Database& registry() const { return *db; }

  // The train or holdout shard of a distribution, opened once and verified, under the tokenizer of the first phase
  // that trained it (distribution_tokenizer_id): a distribution keeps one tokenization, so its evaluations compare.
  std::shared_ptr<const data::ShardReader> shard(int64_t distribution_id, registry::Split split);
  // The tokenizer the first phase of `distribution_id` trained with, once that phase has one recorded; else the
  // run's (a distribution no phase has trained yet is read as the run's tokenizer reads it).
  int64_t distribution_tokenizer_id(int64_t distribution_id) const;

  // The tokenizer in effect at phase `phase_idx`: the newest one recorded by a phase up to it, else the run's.
  registry::TokenizerRow phase_tokenizer(int64_t phase_idx) const;
  // The model's vocabulary at phase `phase_idx` (what its checkpoints hold).
  int64_t phase_vocab_size(int64_t phase_idx) const;
  // Makes `tokenizer` and `model_config.vocab_size` those of phase `phase_idx`.
  void enter_phase(int64_t phase_idx);

  // The distinct distributions of the run's phases, in phase order: the columns every evaluation covers.
  std::vector<registry::DistributionRow> timeline_distributions();

 private:
  std::map<std::tuple<int64_t, int64_t, int>, std::shared_ptr<const data::ShardReader>> shards_;
};

}  // namespace grove::orch
