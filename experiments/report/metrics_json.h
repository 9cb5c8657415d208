// metrics.json: each run's forgetting matrix and metrics in exactly the shape `grove registry forgetting --format
// json` prints (same keys in the same order, same values: both come from registry/forgetting_metrics.h), plus the
// run's strategy and the new-distribution bits per byte, so scripts can read one file for every run of a report.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "experiments/report/across_seeds.h"
#include "experiments/report/run_data.h"

namespace grove::experiments::report {

// {"run", "metric", "split", "distributions", "init", "after", "metrics"} for one run, as the registry command.
nlohmann::ordered_json forgetting_json(const RunData& run);

// Groups of runs that differ only by seed: {"rule", "groups": [{label, experiment, strategy, runs, seeds, ACC,
// forgetting, BWT, FWT, new_distribution_bpb: {mean, std, used, missing}}], "comparisons": [{a, b, metric,
// difference, spread, verdict: differs | within | undetermined}]}.
nlohmann::ordered_json across_seeds_json(const AcrossSeeds& across);

// The whole metrics.json document: {"format", "grove_version", "definitions", "runs": [forgetting_json + extras]},
// and "across_seeds" (across_seeds_json) when some runs differ only by seed. A run's extras: "strategy", "status",
// "new_distribution_bpb" and "routing_specialisation" ({"<layer>": {"<distribution>": share or null}}, as
// routing_specialisation in report_tables.h; null for no growth or not recorded).
nlohmann::ordered_json metrics_document(const std::vector<RunData>& runs);

}  // namespace grove::experiments::report
