#include "experiments/report/across_seeds.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <map>

namespace grove::experiments::report {
namespace {

// What tells a run's group: its strategy and its stored configuration without the seed keys. A configuration that
// does not parse as a mapping keeps the run alone.
struct GroupKey {
  std::string experiment;
  std::string key;
};

GroupKey group_key(const RunData& run) {
  GroupKey out{run.run.name, "run\n" + run.run.name};
  try {
    YAML::Node root = YAML::Load(run.run.config_yaml);
    if (!root.IsMap()) return out;
    if (root["name"] && root["name"].IsScalar()) out.experiment = root["name"].Scalar();
    root.remove("seed");
    root.remove("seeds");
    if (YAML::Node model = root["model"]; model.IsMap()) model.remove("seed");
    YAML::Emitter text;
    text << root;
    out.key = "config\n" + run.run.strategy + "\n" + text.c_str();
  } catch (const YAML::Exception&) {
  }
  return out;
}

}  // namespace

AcrossSeeds across_seeds(const std::vector<RunData>& runs) {
  AcrossSeeds out;
  std::map<std::string, size_t> index;  // key -> group
  for (const auto& run : runs) {
    const GroupKey key = group_key(run);
    auto [it, added] = index.emplace(key.key, out.groups.size());
    if (added) {
      SeedGroup group;
      group.experiment = key.experiment;
      group.strategy = run.run.strategy;
      out.groups.push_back(std::move(group));
    }
    SeedGroup& group = out.groups[it->second];
    group.runs.push_back(&run);
    group.seeds.push_back(run.run.seed);
  }
  for (auto& group : out.groups) {
    std::vector<std::optional<double>> acc, forgetting, bwt, fwt, fresh;
    for (const RunData* run : group.runs) {
      acc.push_back(run->metrics.acc.value);
      forgetting.push_back(run->metrics.forgetting.value);
      bwt.push_back(run->metrics.bwt.value);
      fwt.push_back(run->metrics.fwt.value);
      fresh.push_back(new_distribution_bpb(run->matrix).mean);
    }
    group.acc = seed_spread(acc);
    group.forgetting = seed_spread(forgetting);
    group.bwt = seed_spread(bwt);
    group.fwt = seed_spread(fwt);
    group.new_bpb = seed_spread(fresh);
  }
  for (size_t a = 0; a < out.groups.size(); ++a) {
    for (size_t b = a + 1; b < out.groups.size(); ++b) {
      for (const char* metric : {"ACC", "forgetting"}) {
        const bool acc = std::string_view(metric) == "ACC";
        const SeedSpread& x = acc ? out.groups[a].acc : out.groups[a].forgetting;
        const SeedSpread& y = acc ? out.groups[b].acc : out.groups[b].forgetting;
        SpreadComparison comparison{a, b, metric, std::nullopt, std::nullopt, compare_spreads(x, y)};
        if (x.mean && y.mean) comparison.difference = *x.mean - *y.mean;
        if (x.stddev && y.stddev) comparison.spread = *x.stddev + *y.stddev;
        out.comparisons.push_back(std::move(comparison));
      }
    }
  }
  return out;
}

bool has_repeated_seeds(const AcrossSeeds& across) {
  for (const auto& group : across.groups) {
    if (group.runs.size() > 1) return true;
  }
  return false;
}

std::string group_label(const AcrossSeeds& across, size_t group) {
  const SeedGroup& g = across.groups.at(group);
  bool shared = true;
  for (const auto& other : across.groups) shared = shared && other.experiment == g.experiment;
  // Two groups of one strategy and experiment (configurations that differ beyond the seed) need their runs named.
  size_t same = 0;
  for (const auto& other : across.groups) {
    if (other.experiment == g.experiment && other.strategy == g.strategy) ++same;
  }
  std::string label = shared ? g.strategy : fmt::format("{} ({})", g.strategy, g.experiment);
  if (same > 1) label += fmt::format(" [{}]", g.runs.front()->run.name);
  return label;
}

}  // namespace grove::experiments::report
