#include "orchestrator/experiment_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/errors.h"
#include "common/strict_yaml.h"
#include "orchestrator/config_sections.h"

namespace grove::orch {
namespace fs = std::filesystem;
namespace {

// Applies one "--set a.b[2].c=value" to the document tree; the value is parsed as YAML (numbers, lists, ...).
void apply_set(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(fmt::format("--set '{}': expected KEY.PATH=VALUE, e.g. training.steps=500", assignment));
  }
  const std::string path = assignment.substr(0, eq);
  YAML::Node value = load_yaml_string(assignment.substr(eq + 1), "--set " + path);
  tag_command_line_value(value, assignment);
  std::vector<std::string> parts;
  std::stringstream stream(path);
  for (std::string part; std::getline(stream, part, '.');) parts.push_back(part);

  // yaml-cpp nodes are handles: walking with operator[] on non-const nodes creates missing maps.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string key = parts[i];
    std::optional<size_t> index;
    if (const auto bracket = key.find('['); bracket != std::string::npos && key.back() == ']') {
      const std::string digits = key.substr(bracket + 1, key.size() - bracket - 2);
      size_t parsed = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
        throw ConfigError(fmt::format("--set {}: '{}': expected a list index in brackets, e.g. {}[0]", path, parts[i],
                                      key.substr(0, bracket)));
      }
      index = parsed;
      key = key.substr(0, bracket);
    }
    if (key.empty()) throw ConfigError(fmt::format("--set {}: an empty key in the path", path));
    YAML::Node current = chain.back();
    if (current.IsDefined() && !current.IsNull() && !current.IsMap()) {
      throw ConfigError(fmt::format("--set {}: '{}' is not a section of keys, so it has no key '{}'", path,
                                    fmt::join(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(i), "."),
                                    key));
    }
    const bool last = (i + 1 == parts.size());
    if (index) {
      YAML::Node list = current[key];
      if (!list.IsSequence() || *index >= list.size()) {
        throw ConfigError(fmt::format("--set {}: '{}' has no element {}", path, key, *index));
      }
      if (last) {
        list[*index] = value;
      } else {
        chain.push_back(list[*index]);
      }
    } else if (last) {
      current[key] = value;
    } else {
      chain.push_back(current[key]);
    }
  }
  // A key the assignment added has no place in the file, and an unknown key is reported where its key is: name the
  // assignment there too. chain[i] is the mapping that holds part i's key.
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string key = parts[i].substr(0, parts[i].find('['));
    if (!chain[i].IsMap()) continue;
    for (auto entry : chain[i]) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key && entry.first.Mark().is_null()) {
        tag_command_line_value(entry.first, assignment);
      }
    }
  }
}

fs::path resolve_path(const std::string& text, const fs::path& base_dir) {
  fs::path path(text);
  return path.is_absolute() ? path : (base_dir / path).lexically_normal();
}

}  // namespace

std::string ExperimentConfig::run_name(const experiments::StrategyPreset& strategy, uint64_t run_seed) const {
  const std::string base = name + "-" + strategy.name;
  return seeds.empty() ? base : fmt::format("{}-s{}", base, run_seed);
}

std::vector<RunSpec> ExperimentConfig::runs() const {
  std::vector<RunSpec> all;
  const std::vector<uint64_t> each = seeds.empty() ? std::vector<uint64_t>{seed} : seeds;
  for (const uint64_t run_seed : each) {
    for (const auto& strategy : strategies) all.push_back({strategy, run_seed, run_name(strategy, run_seed)});
  }
  return all;
}

ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& source, const fs::path& base_dir,
                                  const ConfigOverrides& overrides) {
  YAML::Node root = load_yaml_string(yaml_text, source);
  if (!root.IsMap()) throw ConfigError(fmt::format("{}: an experiment file must be a mapping of sections", source));
  for (const auto& assignment : overrides.set) apply_set(root, assignment);

  ExperimentConfig config;
  config.source = source;
  StrictMap top(root, source, "");
  config.name = top.required<std::string>("name");
  // The name names the run in the registry and its folder under work_dir: it must stay one folder inside it.
  const bool control = std::any_of(config.name.begin(), config.name.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (config.name.empty() || config.name == "." || config.name == ".." || control ||
      config.name.find_first_of("/\\") != std::string::npos) {
    throw ConfigError(fmt::format("{}: expected a run name that is one folder name (not empty, not '.' or '..', no "
                                  "'/', '\\' or control characters), got '{}'",
                                  top.where("name"), config.name));
  }
  config.seed = top.get<uint64_t>("seed", config.seed);
  if (top.has("seeds")) {
    // `seed: N` is one run per strategy; `seeds: [N, ...]` one per strategy and seed. Both would leave it unsaid which.
    if (top.has("seed")) {
      throw ConfigError(fmt::format("{} and {} are both given; keep one: `seed: N` for one run per strategy, or "
                                    "`seeds: [N, ...]` for one run per strategy and seed",
                                    top.where("seed"), top.where("seeds")));
    }
    config.seeds = top.list<uint64_t>("seeds");
    if (config.seeds.empty()) {
      throw ConfigError(fmt::format("{}: expected at least one seed, e.g. seeds: [1, 2, 3]", top.where("seeds")));
    }
    for (size_t i = 0; i < config.seeds.size(); ++i) {
      if (std::find(config.seeds.begin(), config.seeds.begin() + static_cast<std::ptrdiff_t>(i), config.seeds[i]) !=
          config.seeds.begin() + static_cast<std::ptrdiff_t>(i)) {
        throw ConfigError(fmt::format("{}: seed {} is listed twice; each seed names one run per strategy",
                                      top.where("seeds"), config.seeds[i]));
      }
    }
    config.seed = config.seeds.front();
  }
  config.registry = resolve_path(top.get<std::string>("registry", "grove.db"), base_dir);
  config.work_dir = resolve_path(top.get<std::string>("work_dir", "grove-work"), base_dir);
  if (overrides.registry) config.registry = fs::absolute(*overrides.registry);
  if (overrides.work_dir) config.work_dir = fs::absolute(*overrides.work_dir);

  std::vector<std::string> strategy_names = top.list<std::string>("strategy");
  for (const auto& extra : top.list<std::string>("strategies")) strategy_names.push_back(extra);
  if (!overrides.strategies.empty()) strategy_names = overrides.strategies;
  if (strategy_names.empty()) strategy_names.push_back("grove");
  // strategy_overrides: flat keys change every strategy; a key named after a preset (`grove: {replay_share: 0.25}`)
  // holds changes for that strategy alone, applied after the flat ones. Per-strategy maps are validated even when
  // their strategy is not run this time (--strategy), so a typo never waits for the day it is used.
  StrictMap strategy_overrides = top.map("strategy_overrides");
  std::map<std::string, StrictMap> per_strategy;
  for (const auto& known : experiments::strategy_presets()) {
    if (!strategy_overrides.has(known.name)) continue;
    StrictMap own = strategy_overrides.map(known.name);
    experiments::StrategyPreset scratch = known;
    apply_strategy_overrides(own, scratch);
    own.finish();
    per_strategy.emplace(known.name, std::move(own));
  }
  for (const auto& strategy_name : strategy_names) {
    auto preset = experiments::find_strategy_preset(strategy_name);
    if (!preset) {
      throw ConfigError(fmt::format("{}: strategy '{}' is not known; expected one of {}", top.where("strategy"),
                                    strategy_name, experiments::strategy_names()));
    }
    apply_strategy_overrides(strategy_overrides, *preset);
    if (auto own = per_strategy.find(strategy_name); own != per_strategy.end()) {
      apply_strategy_overrides(own->second, *preset);
    }
    config.strategies.push_back(*preset);
  }
  strategy_overrides.finish();

  StrictMap tokenizer = top.map("tokenizer");
  parse_tokenizer_section(tokenizer, config.tokenizer);
  config.model = top.raw("model");
  StrictMap training = top.map("training");
  parse_training_section(training, config.training);
  StrictMap evaluation = top.map("evaluation");
  parse_evaluation_section(evaluation, config.evaluation);
  StrictMap growth = top.map("growth");
  parse_growth_section(growth, config.growth);

  for (StrictMap& item : top.list_of_maps("distributions")) {
    config.distributions.push_back(parse_distribution_entry(item, base_dir));
  }
  top.finish();
  return config;
}

ExperimentConfig load_experiment(const fs::path& path, const ConfigOverrides& overrides) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the experiment file", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_experiment(buffer.str(), path.string(), fs::absolute(path).parent_path(), overrides);
}

}  // namespace grove::orch
