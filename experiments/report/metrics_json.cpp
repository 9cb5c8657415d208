#include "experiments/report/metrics_json.h"

#include "common/version.h"
#include "experiments/report/report_tables.h"
#include "experiments/report/seed_statistics.h"

namespace grove::experiments::report {
namespace {

using Json = nlohmann::ordered_json;

Json optional_json(const std::optional<double>& value) { return value ? Json(*value) : Json(); }

Json cells_json(const std::vector<registry::Cell>& cells) {
  Json array = Json::array();
  for (const auto& cell : cells) array.push_back(optional_json(cell));
  return array;
}

Json spread_json(const SeedSpread& spread) {
  return {{"mean", optional_json(spread.mean)},
          {"std", optional_json(spread.stddev)},
          {"used", spread.used},
          {"missing", spread.missing}};
}

const char* verdict_text(SpreadVerdict verdict) {
  switch (verdict) {
    case SpreadVerdict::kDiffers:
      return "differs";
    case SpreadVerdict::kWithin:
      return "within";
    case SpreadVerdict::kUndetermined:
      break;
  }
  return "undetermined";
}

// {"<layer>": {"<distribution>": share or null}} (null: no growth or not recorded); {} without routing rows.
Json routing_specialisation_json(const RunData& run) {
  const RoutingSpecialisation spec = routing_specialisation(run);
  Json json = Json::object();
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    Json layer = Json::object();
    for (size_t j = 0; j < spec.distributions.size(); ++j) {
      layer[spec.distributions[j]] = optional_json(spec.share[l][j]);
    }
    json[std::to_string(spec.layers[l])] = std::move(layer);
  }
  return json;
}

}  // namespace

Json across_seeds_json(const AcrossSeeds& across) {
  Json json = {{"rule", kSpreadRule}, {"groups", Json::array()}, {"comparisons", Json::array()}};
  for (size_t g = 0; g < across.groups.size(); ++g) {
    const SeedGroup& group = across.groups[g];
    Json runs = Json::array();
    for (const RunData* run : group.runs) runs.push_back(run->run.name);
    json["groups"].push_back({{"label", group_label(across, g)},
                              {"experiment", group.experiment},
                              {"strategy", group.strategy},
                              {"runs", std::move(runs)},
                              {"seeds", group.seeds},
                              {"ACC", spread_json(group.acc)},
                              {"forgetting", spread_json(group.forgetting)},
                              {"BWT", spread_json(group.bwt)},
                              {"FWT", spread_json(group.fwt)},
                              {"new_distribution_bpb", spread_json(group.new_bpb)}});
  }
  for (const auto& c : across.comparisons) {
    json["comparisons"].push_back({{"a", group_label(across, c.a)},
                                   {"b", group_label(across, c.b)},
                                   {"metric", c.metric},
                                   {"difference", optional_json(c.difference)},
                                   {"spread", optional_json(c.spread)},
                                   {"verdict", verdict_text(c.verdict)}});
  }
  return json;
}

Json forgetting_json(const RunData& run) {
  const auto& m = run.matrix;
  Json json = {{"run", run.run.name}, {"metric", "bpb"}, {"split", "holdout"}, {"distributions", m.distributions},
               {"init", cells_json(m.init)}};
  json["after"] = Json::array();
  for (const auto& row : m.after) json["after"].push_back(cells_json(row));
  const std::pair<const char*, const registry::Metric*> named[] = {{"ACC", &run.metrics.acc},
                                                                   {"BWT", &run.metrics.bwt},
                                                                   {"FWT", &run.metrics.fwt},
                                                                   {"forgetting", &run.metrics.forgetting},
                                                                   {"max_forgetting", &run.metrics.max_forgetting}};
  Json metrics = Json::object();
  for (const auto& [name, metric] : named) {
    metrics[name] = {{"value", optional_json(metric->value)},
                     {"terms", cells_json(metric->terms)},
                     {"used", metric->used},
                     {"missing", metric->missing}};
  }
  json["metrics"] = std::move(metrics);
  return json;
}

Json metrics_document(const std::vector<RunData>& runs) {
  Json document = {{"format", "grove-report-metrics/1"},
                   {"grove_version", kVersion},
                   {"definitions", "docs/METRICS.md"}};
  document["runs"] = Json::array();
  for (const auto& run : runs) {
    Json json = forgetting_json(run);
    json["strategy"] = run.run.strategy;
    json["status"] = registry::to_text(run.run.status);
    const NewDistributionBpb fresh = new_distribution_bpb(run.matrix);
    json["new_distribution_bpb"] = {{"terms", cells_json(fresh.terms)}, {"mean", optional_json(fresh.mean)}};
    json["routing_specialisation"] = routing_specialisation_json(run);
    document["runs"].push_back(std::move(json));
  }
  if (const AcrossSeeds across = across_seeds(runs); has_repeated_seeds(across)) {
    document["across_seeds"] = across_seeds_json(across);
  }
  return document;
}

}  // namespace grove::experiments::report
