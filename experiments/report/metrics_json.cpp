#include "experiments/report/metrics_json.h"

#include "common/version.h"

namespace grove::experiments::report {
namespace {

using Json = nlohmann::ordered_json;

Json optional_json(const std::optional<double>& value) { return value ? Json(*value) : Json(); }

Json cells_json(const std::vector<registry::Cell>& cells) {
  Json array = Json::array();
  for (const auto& cell : cells) array.push_back(optional_json(cell));
  return array;
}

}  // namespace

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
    document["runs"].push_back(std::move(json));
  }
  return document;
}

}  // namespace grove::experiments::report
