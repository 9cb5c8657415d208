// The experiment file: what a run trains on, how, and where it writes — parsed strictly, validated separately,
// overridable from the command line, and printable fully resolved (`grove dump-config`, stored with every run).
// Override order: built-in defaults < experiment YAML < command-line flags (--strategy, --set key=value).
// Relative paths in the file resolve against the file's folder; paths given as flags against the working folder.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "experiments/strategy_presets.h"

namespace grove::orch {

struct TokenizerSection {
  std::string kind = "bpe";            // bpe | unigram
  int64_t vocab_size = 4096;
  std::vector<std::string> train_on;   // distribution names; empty = the first distribution
  double sample_mb = 4.0;              // per distribution
  // Vocabulary growth: at a phase whose distribution the tokenizer was not trained on, a tokenizer of this size is
  // trained on that distribution and its pieces the run's tokenizer lacks are added (data_streams/
  // vocabulary_growth.h); 0: off. Written to the resolved config only when on, so older runs read the same.
  int64_t grow_pieces = 0;
};

// A distribution of the timeline: a name plus its spec (inline, or read from `spec: FILE`), handed to data_streams.
struct DistributionEntry {
  std::string name;
  YAML::Node spec;           // the full spec mapping (name included)
  std::string spec_origin;   // file the spec came from (for messages)
  std::string key_path;      // "distributions[2]" for an entry written inline; empty for `- spec: FILE`
};

struct TrainingSection {
  int64_t steps = 300;                 // optimizer steps per phase
  std::optional<int64_t> base_steps;   // phase 0 (base model) if different
  int64_t batch_size = 16;
  int64_t seq_len = 128;
  double lr = 1e-3;
  int64_t warmup_steps = 20;
  double min_lr_ratio = 0.1;
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double grad_clip = 1.0;
  int64_t checkpoint_every = 100;      // steps; 0: none by step count; phase start and end always checkpoint
  double checkpoint_every_minutes = 0;  // also once this many minutes passed since the last checkpoint; 0: off
  int64_t keep_checkpoints = 2;        // periodic checkpoints kept per phase (phase-end ones are always kept)
  bool keep_finished_phase_checkpoints = false;  // keep them after the phase's final checkpoint exists
  int64_t log_every = 10;              // metrics rows and progress updates
  std::string device = "auto";         // auto | cpu | cuda
  std::string precision = "auto";      // auto (bf16 on CUDA, fp32 on CPU) | fp32 | bf16
  int64_t threads = 0;                 // CPU threads for LibTorch; 0 = all cores
  bool cuda_graphs = true;             // on CUDA, replay each step's forward + backward as a captured CUDA graph
};

struct EvaluationSection {
  int64_t max_tokens = 50000;          // holdout tokens read per distribution: the first documents in shard order,
                                       // the last one (the first too) cut to the budget (docs/METRICS.md)
  int64_t batch_size = 16;
};

struct GrowthSection {
  std::string policy;                  // empty = the strategy's
  int64_t experts_per_layer = 2;
  std::string init = "copy";           // copy | random
  double noise_std = 0.01;
  double novelty_ratio = 1.2;
  int64_t prepass_tokens = 8192;       // tokens of the new distribution routed to choose copy parents
};

// One run of an experiment: a strategy trained with a seed, under its run name.
struct RunSpec {
  experiments::StrategyPreset strategy;
  uint64_t seed = 0;
  std::string name;  // "<name>-<strategy>", plus "-s<seed>" when the file lists `seeds:`
};

struct ExperimentConfig {
  std::string name;
  uint64_t seed = 1234;                // `seed:`; with `seeds:` the first of them (a run's config: its own seed)
  std::vector<uint64_t> seeds;         // `seeds:` as listed (distinct); empty when the file gives `seed:` or neither
  std::filesystem::path registry;      // resolved path
  std::filesystem::path work_dir;      // resolved path: checkpoints, logs
  std::vector<experiments::StrategyPreset> strategies;  // one run per strategy (overrides applied)
  TokenizerSection tokenizer;
  YAML::Node model;                    // the `model:` mapping, parsed by the model library
  std::vector<DistributionEntry> distributions;
  TrainingSection training;
  EvaluationSection evaluation;
  GrowthSection growth;
  std::string source;                  // the file (or "<embedded demo>")

  // The run name of a strategy with a seed: "<name>-<strategy>", and "-s<seed>" after it when the file lists
  // `seeds:` (even one seed, so narrowing the list later keeps the names of the runs that remain).
  std::string run_name(const experiments::StrategyPreset& strategy, uint64_t run_seed) const;
  // Every (strategy, seed) pair, seeds outermost: the first seed's runs of every strategy come first.
  std::vector<RunSpec> runs() const;
};

struct ConfigOverrides {
  std::vector<std::string> strategies;           // --strategy (repeatable)
  std::vector<std::string> set;                  // --set key.path=value
  std::optional<std::filesystem::path> registry; // --registry
  std::optional<std::filesystem::path> work_dir; // --work-dir
};

// Parse the YAML text (from `source`, whose folder anchors relative paths), apply overrides, then parse strictly.
// Throws ConfigError naming file, line, key and expectation. Does not touch the file system beyond reading specs.
ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& source,
                                  const std::filesystem::path& base_dir, const ConfigOverrides& overrides = {});
ExperimentConfig load_experiment(const std::filesystem::path& path, const ConfigOverrides& overrides = {});

// Validation (model keys, distribution specs and corpus paths, cross-section names) and the resolved YAML live
// in run_setup.h: they need the model and data_streams parsers.

}  // namespace grove::orch
