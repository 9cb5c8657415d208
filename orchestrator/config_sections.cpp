#include "orchestrator/config_sections.h"

#include <fmt/format.h>

#include <cmath>

#include "common/errors.h"
#include "data_streams/corpus_spec.h"

namespace grove::orch {
namespace fs = std::filesystem;

void parse_tokenizer_section(StrictMap& map, TokenizerSection& out) {
  out.kind = map.get<std::string>("kind", out.kind);
  out.vocab_size = map.get<int64_t>("vocab_size", out.vocab_size);
  out.train_on = map.list<std::string>("train_on");
  out.sample_mb = map.get<double>("sample_mb", out.sample_mb);
  out.grow_pieces = map.get<int64_t>("grow_pieces", out.grow_pieces);
  if (out.kind != "bpe" && out.kind != "unigram") {
    throw ConfigError(fmt::format("{}: expected bpe or unigram, got '{}'", map.where("kind"), out.kind));
  }
  if (out.vocab_size < 300 || out.vocab_size > 1'000'000) {
    throw ConfigError(fmt::format("{}: expected 300..1000000 (byte fallback needs 256 byte pieces), got {}",
                                  map.where("vocab_size"), out.vocab_size));
  }
  if (out.sample_mb <= 0) throw ConfigError(fmt::format("{}: expected a positive size in MB", map.where("sample_mb")));
  if (out.grow_pieces != 0 && (out.grow_pieces < 300 || out.grow_pieces > 1'000'000)) {
    throw ConfigError(fmt::format("{}: expected 0 (no vocabulary growth) or 300..1000000 (the vocabulary of the "
                                  "tokenizer trained on each new distribution, byte pieces included), got {}",
                                  map.where("grow_pieces"), out.grow_pieces));
  }
  map.finish();
}

namespace {

void require_positive(const StrictMap& map, const std::string& key, double value) {
  if (!(value > 0)) throw ConfigError(fmt::format("{}: expected a positive value, got {}", map.where(key), value));
}
void require_non_negative(const StrictMap& map, const std::string& key, double value) {
  if (value < 0) throw ConfigError(fmt::format("{}: expected a value >= 0, got {}", map.where(key), value));
}
void require_one_of(const StrictMap& map, const std::string& key, const std::string& value,
                    std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* option : allowed) {
    if (value == option) return;
    list += (list.empty() ? "" : ", ") + std::string(option);
  }
  throw ConfigError(fmt::format("{}: expected one of {}, got '{}'", map.where(key), list, value));
}

}  // namespace

void parse_training_section(StrictMap& map, TrainingSection& out) {
  out.steps = map.get<int64_t>("steps", out.steps);
  out.base_steps = map.optional<int64_t>("base_steps");
  out.batch_size = map.get<int64_t>("batch_size", out.batch_size);
  out.seq_len = map.get<int64_t>("seq_len", out.seq_len);
  out.lr = map.get<double>("lr", out.lr);
  out.warmup_steps = map.get<int64_t>("warmup_steps", out.warmup_steps);
  out.min_lr_ratio = map.get<double>("min_lr_ratio", out.min_lr_ratio);
  out.weight_decay = map.get<double>("weight_decay", out.weight_decay);
  out.beta1 = map.get<double>("beta1", out.beta1);
  out.beta2 = map.get<double>("beta2", out.beta2);
  out.grad_clip = map.get<double>("grad_clip", out.grad_clip);
  out.checkpoint_every = map.get<int64_t>("checkpoint_every", out.checkpoint_every);
  out.checkpoint_every_minutes = map.get<double>("checkpoint_every_minutes", out.checkpoint_every_minutes);
  out.keep_checkpoints = map.get<int64_t>("keep_checkpoints", out.keep_checkpoints);
  out.keep_finished_phase_checkpoints =
      map.get<bool>("keep_finished_phase_checkpoints", out.keep_finished_phase_checkpoints);
  out.log_every = map.get<int64_t>("log_every", out.log_every);
  out.device = map.get<std::string>("device", out.device);
  out.precision = map.get<std::string>("precision", out.precision);
  out.threads = map.get<int64_t>("threads", out.threads);
  out.cuda_graphs = map.get<bool>("cuda_graphs", out.cuda_graphs);

  require_positive(map, "steps", static_cast<double>(out.steps));
  if (out.base_steps) require_positive(map, "base_steps", static_cast<double>(*out.base_steps));
  require_positive(map, "batch_size", static_cast<double>(out.batch_size));
  require_positive(map, "seq_len", static_cast<double>(out.seq_len));
  require_positive(map, "lr", out.lr);
  require_non_negative(map, "warmup_steps", static_cast<double>(out.warmup_steps));
  if (out.min_lr_ratio < 0 || out.min_lr_ratio > 1) {
    throw ConfigError(fmt::format("{}: expected a ratio in [0, 1], got {}", map.where("min_lr_ratio"), out.min_lr_ratio));
  }
  require_non_negative(map, "weight_decay", out.weight_decay);
  if (out.beta1 < 0 || out.beta1 >= 1) throw ConfigError(fmt::format("{}: expected [0, 1)", map.where("beta1")));
  if (out.beta2 < 0 || out.beta2 >= 1) throw ConfigError(fmt::format("{}: expected [0, 1)", map.where("beta2")));
  require_non_negative(map, "grad_clip", out.grad_clip);
  require_non_negative(map, "checkpoint_every", static_cast<double>(out.checkpoint_every));
  if (!(out.checkpoint_every_minutes >= 0) || !std::isfinite(out.checkpoint_every_minutes)) {
    throw ConfigError(fmt::format("{}: expected a number of minutes >= 0 (0: no checkpoints by time), got {}",
                                  map.where("checkpoint_every_minutes"), out.checkpoint_every_minutes));
  }
  require_positive(map, "keep_checkpoints", static_cast<double>(out.keep_checkpoints));
  require_positive(map, "log_every", static_cast<double>(out.log_every));
  require_one_of(map, "device", out.device, {"auto", "cpu", "cuda"});
  require_one_of(map, "precision", out.precision, {"auto", "fp32", "bf16"});
  require_non_negative(map, "threads", static_cast<double>(out.threads));
  map.finish();
}

void parse_evaluation_section(StrictMap& map, EvaluationSection& out) {
  out.max_tokens = map.get<int64_t>("max_tokens", out.max_tokens);
  out.batch_size = map.get<int64_t>("batch_size", out.batch_size);
  require_positive(map, "max_tokens", static_cast<double>(out.max_tokens));
  require_positive(map, "batch_size", static_cast<double>(out.batch_size));
  map.finish();
}

void parse_growth_section(StrictMap& map, GrowthSection& out) {
  out.policy = map.get<std::string>("policy", out.policy);
  out.experts_per_layer = map.get<int64_t>("experts_per_layer", out.experts_per_layer);
  out.init = map.get<std::string>("init", out.init);
  out.noise_std = map.get<double>("noise_std", out.noise_std);
  out.novelty_ratio = map.get<double>("novelty_ratio", out.novelty_ratio);
  out.prepass_tokens = map.get<int64_t>("prepass_tokens", out.prepass_tokens);
  if (!out.policy.empty()) require_one_of(map, "policy", out.policy, {"always", "never", "novelty"});
  require_non_negative(map, "experts_per_layer", static_cast<double>(out.experts_per_layer));
  require_one_of(map, "init", out.init, {"copy", "random"});
  require_non_negative(map, "noise_std", out.noise_std);
  require_positive(map, "novelty_ratio", out.novelty_ratio);
  require_positive(map, "prepass_tokens", static_cast<double>(out.prepass_tokens));
  map.finish();
}

void apply_strategy_overrides(StrictMap& map, experiments::StrategyPreset& preset) {
  preset.growth = map.get<std::string>("growth", preset.growth);
  preset.experts = map.get<std::string>("experts", preset.experts);
  preset.gate = map.get<std::string>("gate", preset.gate);
  preset.shared = map.get<std::string>("shared", preset.shared);
  preset.kd_weight = map.get<double>("kd_weight", preset.kd_weight);
  preset.kd_temperature = map.get<double>("kd_temperature", preset.kd_temperature);
  preset.replay_share = map.get<double>("replay_share", preset.replay_share);
  preset.isolation_weight = map.get<double>("isolation_weight", preset.isolation_weight);
  preset.rehearsal_share = map.get<double>("rehearsal_share", preset.rehearsal_share);
  preset.rehearsal_weight = map.get<double>("rehearsal_weight", preset.rehearsal_weight);
  require_one_of(map, "growth", preset.growth, {"always", "never", "novelty"});
  require_one_of(map, "experts", preset.experts, {"newest", "all"});
  require_one_of(map, "gate", preset.gate, {"new_rows", "all", "frozen"});
  require_one_of(map, "shared", preset.shared, {"frozen", "trainable", "new_tokens", "orthogonal"});
  require_non_negative(map, "isolation_weight", preset.isolation_weight);
  require_non_negative(map, "rehearsal_weight", preset.rehearsal_weight);
  require_non_negative(map, "kd_weight", preset.kd_weight);
  require_positive(map, "kd_temperature", preset.kd_temperature);
  for (const auto& [key, share] : {std::pair{"replay_share", preset.replay_share},
                                    std::pair{"rehearsal_share", preset.rehearsal_share}}) {
    if (share < 0 || share >= 1) {
      throw ConfigError(fmt::format("{}: expected a share in [0, 1), got {}", map.where(key), share));
    }
  }
  if (preset.replay_share + preset.rehearsal_share >= 1) {
    throw ConfigError(fmt::format("{}: replay_share {} and rehearsal_share {} leave no room in a batch for the new "
                                  "distribution; their sum must be below 1",
                                  map.where("rehearsal_share"), preset.replay_share, preset.rehearsal_share));
  }
}

DistributionEntry parse_distribution_entry(StrictMap& item, const fs::path& base_dir) {
  DistributionEntry entry;
  YAML::Node spec;
  fs::path spec_dir = base_dir;
  if (item.has("spec")) {
    const fs::path spec_path = [&] {
      fs::path p(item.required<std::string>("spec"));
      return p.is_absolute() ? p : (base_dir / p).lexically_normal();
    }();
    item.finish();  // `- spec: FILE` takes nothing else
    spec = load_yaml_file(spec_path.string());
    entry.spec_origin = spec_path.string();
    spec_dir = spec_path.parent_path();
  } else {
    // A new mapping over the same value nodes, not YAML::Clone: a clone loses their place in the file, so every
    // message about the entry said line 1. Only `paths` and `exclude` are replaced below, in this mapping alone.
    spec = YAML::Node(YAML::NodeType::Map);
    if (item.node().IsMap()) {
      for (const auto& key_value : item.node()) spec[key_value.first] = key_value.second;
    }
    entry.spec_origin = item.file();
    entry.key_path = item.path();
  }
  if (!spec.IsMap() || !spec["name"] || !spec["name"].IsScalar()) {
    throw ConfigError(fmt::format("{}: a distribution needs a 'name' (and its source and paths), or 'spec: FILE'",
                                  yaml_location(item.node(), item.file())));
  }
  entry.name = spec["name"].Scalar();
  // Relative paths, and excludes with a folder in them, are relative to the file that names them. A file-name
  // exclude ("*.md") matches in every folder and stays as written.
  for (const char* key : {"paths", "exclude"}) {
    if (!spec[key]) continue;
    YAML::Node resolved(YAML::NodeType::Sequence);
    const YAML::Node patterns = spec[key];
    auto resolve = [&](const std::string& text) {
      fs::path p(text);
      if (p.is_absolute() || (std::string_view(key) == "exclude" && data::is_file_name_pattern(text))) return text;
      return (spec_dir / p).lexically_normal().string();
    };
    if (patterns.IsScalar()) {
      resolved.push_back(resolve(patterns.Scalar()));
    } else if (patterns.IsSequence()) {
      for (const auto& p : patterns) {
        if (p.IsScalar()) {
          resolved.push_back(resolve(p.Scalar()));
        } else {
          resolved.push_back(YAML::Node(p));
        }
      }
    }
    spec[key] = resolved;  // rebinds this mapping's node only; an in-place edit would change the experiment's tree
  }
  entry.spec = spec;
  return entry;
}

}  // namespace grove::orch
