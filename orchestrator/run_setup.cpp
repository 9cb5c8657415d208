#include "orchestrator/run_setup.h"

#include <fmt/format.h>

#include <set>
#include <sstream>

#include "common/errors.h"
#include "common/log.h"
#include "common/shell_word.h"
#include "common/strict_yaml.h"
#include "common/version.h"
#include "data_streams/corpus_files.h"
#include "data_streams/corpus_probe.h"
#include "data_streams/ingest.h"
#include "data_streams/tokenize.h"
#include "data_streams/tokenizer_registry.h"
#include "data_streams/tokenizer_training.h"

namespace grove::orch {
namespace fs = std::filesystem;
namespace {

YAML::Node yaml_of(const std::string& text, const std::string& name) { return load_yaml_string(text, name); }

// The first line where two texts differ, for "the stored config differs" messages.
std::string first_difference(const std::string& stored, const std::string& wanted) {
  std::istringstream a(stored), b(wanted);
  std::string line_a, line_b;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    if (!more_a && !more_b) return "(no difference)";
    if (!more_a || !more_b || line_a != line_b) {
      return fmt::format("line {}: stored '{}', now '{}'", line, more_a ? line_a : "<end>", more_b ? line_b : "<end>");
    }
  }
}

data::TokenizerSpec tokenizer_spec(const ExperimentConfig& config) {
  data::TokenizerSpec spec;
  spec.kind = config.tokenizer.kind == "bpe" ? registry::TokenizerKind::kBpe : registry::TokenizerKind::kUnigram;
  spec.vocab_size = static_cast<uint32_t>(config.tokenizer.vocab_size);
  spec.train_on = config.tokenizer.train_on;
  if (spec.train_on.empty()) spec.train_on.push_back(config.distributions.front().name);
  spec.sample_bytes_per_distribution = static_cast<uint64_t>(config.tokenizer.sample_mb * 1e6);
  spec.seed = config.seed;
  return spec;
}

// A resumed run's tokenizer model must be the file it was registered with: noticed when the run opens, not by a
// later export. The message names the file and the command that writes it again.
void require_tokenizer_model(registry::Database& db, const registry::RunRow& run,
                             const registry::TokenizerRow& tokenizer, const ExperimentConfig& config) {
  const auto check = data::check_registered_model(db, tokenizer);
  if (check.ok()) return;
  const auto spec = tokenizer_spec(config);
  std::string on;
  for (const auto& name : spec.train_on) on += " --on " + shell_word(name);
  throw DataError(fmt::format(
      "run '{}': {}; the run cannot go on without the tokenizer it trained with: restore the file from a backup, or "
      "write it again with `grove tokenizer train --registry {} --kind {} --vocab-size {} --sample-mb {} --seed {}{}` "
      "(the same settings give the same file while those distributions are unchanged)",
      run.name, check.problem, shell_word(db.path()), config.tokenizer.kind, config.tokenizer.vocab_size,
      config.tokenizer.sample_mb, spec.seed, on));
}

}  // namespace

ExperimentConfig config_for_run(const ExperimentConfig& config, const RunSpec& run) {
  ExperimentConfig one = config;
  one.strategies = {run.strategy};
  one.seed = run.seed;
  if (!config.seeds.empty()) one.seeds = {run.seed};
  return one;
}

ValidatedExperiment validated_for_run(const ExperimentConfig& config, const ValidatedExperiment& validated,
                                      const RunSpec& run) {
  ValidatedExperiment own = validated;
  if (!config.model["seed"]) own.model.seed = run.seed;
  return own;
}

ValidatedExperiment validate_and_resolve(const ExperimentConfig& config, bool check_corpus_paths) {
  ValidatedExperiment validated;
  StrictMap model_map(config.model, config.source, "model");
  validated.vocab_from_tokenizer = !model_map.has("vocab_size");
  validated.model = model::parse_model_config(model_map);
  if (!config.model["seed"]) validated.model.seed = config.seed;
  if (validated.vocab_from_tokenizer) validated.model.vocab_size = config.tokenizer.vocab_size;
  validated.model.validate();
  if (config.training.seq_len > validated.model.max_seq_len) {
    throw ConfigError(fmt::format("{}: training.seq_len {} exceeds model.max_seq_len {}", config.source,
                                  config.training.seq_len, validated.model.max_seq_len));
  }
  if (!validated.vocab_from_tokenizer && validated.model.vocab_size != config.tokenizer.vocab_size) {
    throw ConfigError(fmt::format("{}: model.vocab_size {} differs from tokenizer.vocab_size {}; leave "
                                  "model.vocab_size out to take the tokenizer's",
                                  config.source, validated.model.vocab_size, config.tokenizer.vocab_size));
  }
  if (config.distributions.empty()) {
    throw ConfigError(fmt::format("{}: 'distributions' must list at least one distribution (the base phase's)",
                                  config.source));
  }
  std::set<std::string> names;
  for (const auto& entry : config.distributions) {
    auto spec = data::parse_distribution_spec(entry.spec, entry.spec_origin, fs::path("/"), entry.key_path);
    data::validate_distribution_spec(spec, entry.spec_origin);
    // Every path exists, something is left, and no file is binary and not all are empty: DataError naming it
    // otherwise, for every distribution before the first is ingested.
    if (check_corpus_paths) data::probe_corpus_files(spec, data::list_corpus_files(spec));
    if (!names.insert(spec.name).second) {
      throw ConfigError(fmt::format("{}: distribution '{}' appears twice in the timeline", config.source, spec.name));
    }
    validated.specs.push_back(std::move(spec));
  }
  for (const auto& name : config.tokenizer.train_on) {
    if (names.count(name) == 0) {
      throw ConfigError(fmt::format("{}: tokenizer.train_on names '{}', which is not one of the distributions",
                                    config.source, name));
    }
  }
  data::validate_tokenizer_spec(tokenizer_spec(config));
  return validated;
}

namespace {

// resolved_yaml(), or with `for_dump` dump_yaml(): the model keys a run fills in for itself left out.
std::string resolved_yaml_text(const ExperimentConfig& config, const ValidatedExperiment& validated, bool for_dump) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << config.name;
  // `seed:` when the file gave one seed: the stored config of runs recorded before `seeds:` existed stays
  // byte-identical (resumable).
  if (config.seeds.empty()) {
    out << YAML::Key << "seed" << YAML::Value << config.seed;
  } else {
    out << YAML::Key << "seeds" << YAML::Value << YAML::Flow << config.seeds;
  }
  out << YAML::Key << "registry" << YAML::Value << config.registry.string();
  out << YAML::Key << "work_dir" << YAML::Value << config.work_dir.string();
  out << YAML::Key << "strategies" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& strategy : config.strategies) out << strategy.name;
  out << YAML::EndSeq;
  // Every setting of each strategy, so the presets' defaults do not matter: one strategy (every run's stored
  // config) as flat keys; several as one map per strategy, so that each keeps its own settings when read back.
  const bool several = config.strategies.size() > 1;
  out << YAML::Key << "strategy_overrides" << YAML::Value << YAML::BeginMap;
  for (const auto& s : config.strategies) {
    if (several) out << YAML::Key << s.name << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "growth" << YAML::Value << s.growth << YAML::Key << "experts" << YAML::Value << s.experts
        << YAML::Key << "gate" << YAML::Value << s.gate << YAML::Key << "shared" << YAML::Value << s.shared
        << YAML::Key << "kd_weight" << YAML::Value << s.kd_weight << YAML::Key << "kd_temperature" << YAML::Value
        << s.kd_temperature << YAML::Key << "replay_share" << YAML::Value << s.replay_share;
    // Left out only when it is off and the preset's default is off too: the stored configs of runs made before the
    // key existed then still match theirs, and a value read back is always the one written (a stored config that
    // lacks the key is read as 0: parse_stored_config).
    const auto preset = experiments::find_strategy_preset(s.name);
    if (s.isolation_weight != 0 || (preset && preset->isolation_weight != 0)) {
      out << YAML::Key << "isolation_weight" << YAML::Value << s.isolation_weight;
    }
    if (s.rehearsal_share != 0 || (preset && preset->rehearsal_share != 0)) {
      out << YAML::Key << "rehearsal_share" << YAML::Value << s.rehearsal_share << YAML::Key << "rehearsal_weight"
          << YAML::Value << s.rehearsal_weight;
    }
    if (several) out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "tokenizer" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << config.tokenizer.kind;
  out << YAML::Key << "vocab_size" << YAML::Value << config.tokenizer.vocab_size;
  out << YAML::Key << "train_on" << YAML::Value << YAML::Flow << tokenizer_spec(config).train_on;
  out << YAML::Key << "sample_mb" << YAML::Value << config.tokenizer.sample_mb;
  if (config.tokenizer.grow_pieces > 0) out << YAML::Key << "grow_pieces" << YAML::Value << config.tokenizer.grow_pieces;
  out << YAML::EndMap;
  YAML::Node model = yaml_of(model::model_config_to_yaml(validated.model), "model");
  if (for_dump && validated.vocab_from_tokenizer) model.remove("vocab_size");
  if (for_dump && !config.model["seed"]) model.remove("seed");
  out << YAML::Key << "model" << YAML::Value << model;
  const auto& t = config.training;
  out << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "steps" << YAML::Value << t.steps;
  if (t.base_steps) out << YAML::Key << "base_steps" << YAML::Value << *t.base_steps;
  out << YAML::Key << "batch_size" << YAML::Value << t.batch_size << YAML::Key << "seq_len" << YAML::Value
      << t.seq_len << YAML::Key << "lr" << YAML::Value << t.lr << YAML::Key << "warmup_steps" << YAML::Value
      << t.warmup_steps << YAML::Key << "min_lr_ratio" << YAML::Value << t.min_lr_ratio << YAML::Key
      << "weight_decay" << YAML::Value << t.weight_decay << YAML::Key << "beta1" << YAML::Value << t.beta1
      << YAML::Key << "beta2" << YAML::Value << t.beta2 << YAML::Key << "grad_clip" << YAML::Value << t.grad_clip
      << YAML::Key << "checkpoint_every" << YAML::Value << t.checkpoint_every << YAML::Key << "keep_checkpoints"
      << YAML::Value << t.keep_checkpoints << YAML::Key << "log_every" << YAML::Value << t.log_every << YAML::Key
      << "device" << YAML::Value << t.device << YAML::Key << "precision" << YAML::Value << t.precision << YAML::Key
      << "threads" << YAML::Value << t.threads;
  // Only when not the default: the stored config of runs recorded before these keys existed stays byte-identical
  // (resumable).
  if (t.keep_finished_phase_checkpoints) out << YAML::Key << "keep_finished_phase_checkpoints" << YAML::Value << true;
  if (!t.cuda_graphs) out << YAML::Key << "cuda_graphs" << YAML::Value << false;
  if (t.checkpoint_every_minutes > 0) {
    out << YAML::Key << "checkpoint_every_minutes" << YAML::Value << t.checkpoint_every_minutes;
  }
  out << YAML::EndMap;
  out << YAML::Key << "evaluation" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_tokens" << YAML::Value << config.evaluation.max_tokens << YAML::Key << "batch_size"
      << YAML::Value << config.evaluation.batch_size;
  out << YAML::EndMap;
  const auto& g = config.growth;
  out << YAML::Key << "growth" << YAML::Value << YAML::BeginMap;
  if (!g.policy.empty()) out << YAML::Key << "policy" << YAML::Value << g.policy;
  out << YAML::Key << "experts_per_layer" << YAML::Value << g.experts_per_layer << YAML::Key << "init" << YAML::Value
      << g.init << YAML::Key << "noise_std" << YAML::Value << g.noise_std << YAML::Key << "novelty_ratio"
      << YAML::Value << g.novelty_ratio << YAML::Key << "prepass_tokens" << YAML::Value << g.prepass_tokens;
  out << YAML::EndMap;
  out << YAML::Key << "distributions" << YAML::Value << YAML::BeginSeq;
  for (const auto& spec : validated.specs) out << yaml_of(data::to_yaml(spec), spec.name);
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

std::string resolved_yaml(const ExperimentConfig& config, const ValidatedExperiment& validated) {
  return resolved_yaml_text(config, validated, /*for_dump=*/false);
}

std::string dump_yaml(const ExperimentConfig& config, const ValidatedExperiment& validated) {
  return resolved_yaml_text(config, validated, /*for_dump=*/true);
}

RunContext open_run(registry::Database& db, const ExperimentConfig& config, const ValidatedExperiment& validated,
                    const RunSpec& run_spec, const DevicePlan& plan) {
  const auto& strategy = run_spec.strategy;
  RunContext ctx;
  ctx.db = &db;
  ctx.config = config_for_run(config, run_spec);
  ctx.strategy = strategy;
  ctx.plan = plan;
  ctx.model_config = validated_for_run(config, validated, run_spec).model;

  // Distributions: ingest (a no-op when unchanged) in timeline order.
  std::vector<int64_t> distribution_ids;
  for (const auto& spec : validated.specs) {
    data::IngestOptions options;
    options.tokenize = false;
    // Runs that trained on a name keep what they saw, and `grove run` has no --replace: the way forward is a name.
    options.how_to_replace = fmt::format(
        "an experiment does not replace a distribution's content (the runs that trained on it keep what they saw): "
        "give the changed corpus a name of its own in {} (a date or version in it, say), or use another registry",
        config.source);
    const auto report = data::ingest_distribution(db, spec, options);
    if (report.outcome != data::IngestOutcome::kUnchanged) log::info("{}", report.summary());
    distribution_ids.push_back(report.distribution_id);
  }

  // The run by its name; else, for a file of one seed, a run recorded when a file of one strategy named its run
  // just "<name>", if it trained this strategy (one of another strategy is another run: no collision).
  std::string run_name = run_spec.name;
  auto existing = registry::find_run(db, run_name);
  if (!existing && config.seeds.empty()) {
    if (auto legacy = registry::find_run(db, config.name); legacy && legacy->strategy == strategy.name) {
      log::info("run '{}': resuming it under its name from before run names carried the strategy ('{}' is not in "
                "the registry)",
                legacy->name, run_name);
      existing = std::move(legacy);
      run_name = existing->name;
    }
  }

  // Tokenizer: the run's own when it exists, else trained (or found by hash) from the run's config (its seed).
  if (existing && existing->tokenizer_id) {
    ctx.tokenizer = *registry::find_tokenizer(db, *existing->tokenizer_id);
    require_tokenizer_model(db, *existing, ctx.tokenizer, ctx.config);
  } else {
    const auto trained = data::train_tokenizer(db, tokenizer_spec(ctx.config));
    ctx.tokenizer = *registry::find_tokenizer(db, trained.id);
  }
  if (validated.vocab_from_tokenizer) ctx.model_config.vocab_size = *ctx.tokenizer.vocab_size;
  ctx.run_vocab_size = ctx.model_config.vocab_size;
  for (const int64_t id : distribution_ids) data::ensure_tokenized(db, id, ctx.tokenizer.id);

  ValidatedExperiment stored = validated;
  stored.model = ctx.model_config;
  const std::string config_yaml = resolved_yaml(ctx.config, stored);
  // The run row and its phases in one transaction: a process killed in between leaves neither, never a run without
  // phases (which `grove tick` would find nothing to do for).
  registry::Transaction records(db);
  if (existing) {
    // A run recorded when the stored config's `name` was the run's name (a file of several strategies) matches
    // in that form too.
    ExperimentConfig named_by_run = ctx.config;
    named_by_run.name = run_name;
    if (existing->config_yaml != config_yaml && existing->config_yaml != resolved_yaml(named_by_run, stored)) {
      throw ConfigError(fmt::format(
          "run '{}' already exists in {} with a different configuration ({}); give this experiment another name, "
          "or use another registry (if the file did not change, a strategy preset did: pin the run's settings "
          "under strategy_overrides as `grove registry runs --format json` shows them in its config)",
          run_name, db.path(), first_difference(existing->config_yaml, config_yaml)));
    }
    ctx.run = *existing;
  } else {
    registry::NewRun run;
    run.name = run_name;
    run.strategy = strategy.name;
    run.config_yaml = config_yaml;
    run.seed = static_cast<int64_t>(run_spec.seed);
    run.tokenizer_id = ctx.tokenizer.id;
    run.work_dir = config.work_dir.string();
    const int64_t id = registry::create_run(db, run);
    ctx.run = *registry::find_run_by_id(db, id);
    log::info("run '{}' created (strategy {}, {} distributions)", run.name, strategy.name, distribution_ids.size());
  }
  ctx.run_dir = config.work_dir / run_name;

  // Phases: one per timeline distribution; existing ones must match.
  for (size_t i = 0; i < distribution_ids.size(); ++i) {
    const auto idx = static_cast<int64_t>(i);
    const auto phase = registry::find_phase(db, ctx.run.id, idx);
    if (phase) {
      const auto had = registry::find_distribution(db, phase->distribution_id);
      if (had->name != validated.specs[i].name) {
        throw ConfigError(fmt::format("run '{}': phase {} trained '{}', but the experiment now puts '{}' there",
                                      ctx.run.name, idx, had->name, validated.specs[i].name));
      }
      continue;
    }
    registry::NewPhase row;
    row.run_id = ctx.run.id;
    row.idx = idx;
    row.distribution_id = distribution_ids[i];
    row.steps_total = idx == 0 && config.training.base_steps ? *config.training.base_steps : config.training.steps;
    registry::create_phase(db, row);
  }
  records.commit();
  return ctx;
}

ExperimentConfig parse_stored_config(const registry::RunRow& run) {
  // Keys added after a run was made take the value that reproduces what the run did then, not today's preset's.
  YAML::Node root = YAML::Load(run.config_yaml);
  YAML::Node overrides = root["strategy_overrides"];
  bool upgrade = false;
  if (overrides && overrides.IsMap() && overrides["growth"]) {
    for (const char* key : {"isolation_weight", "rehearsal_share"}) {
      if (!overrides[key]) {
        overrides[key] = 0.0;
        upgrade = true;
      }
    }
  }
  const std::string text = upgrade ? YAML::Dump(root) : run.config_yaml;
  return parse_experiment(text, fmt::format("run '{}' (stored config)", run.name), fs::path("/"), ConfigOverrides{});
}

RunContext open_existing_run(registry::Database& db, const registry::RunRow& run, const DevicePlan* plan) {
  const auto config = parse_stored_config(run);
  const auto validated = validate_and_resolve(config, /*check_corpus_paths=*/false);
  RunContext ctx;
  ctx.db = &db;
  ctx.config = config;
  ctx.strategy = config.strategies.front();
  ctx.model_config = validated.model;
  ctx.plan = plan ? *plan : resolve_device_plan(config.training.device, config.training.precision,
                                                config.training.threads);
  ctx.run = run;
  if (!run.tokenizer_id) throw RegistryError(fmt::format("run '{}' has no tokenizer recorded", run.name));
  ctx.tokenizer = *registry::find_tokenizer(db, *run.tokenizer_id);
  require_tokenizer_model(db, run, ctx.tokenizer, config);
  ctx.run_vocab_size = ctx.model_config.vocab_size;
  ctx.run_dir = config.work_dir / run.name;
  return ctx;
}

}  // namespace grove::orch
