// metrics.json: each run's forgetting matrix and metrics in exactly the shape `grove registry forgetting --format
// json` prints (same keys in the same order, same values: both come from registry/forgetting_metrics.h), plus the
// run's strategy and the new-distribution bits per byte, so scripts can read one file for every run of a report.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "experiments/report/run_data.h"

namespace grove::experiments::report {

// {"run", "metric", "split", "distributions", "init", "after", "metrics"} for one run, as the registry command.
nlohmann::ordered_json forgetting_json(const RunData& run);

// The whole metrics.json document: {"format", "grove_version", "definitions", "runs": [forgetting_json + extras]}.
nlohmann::ordered_json metrics_document(const std::vector<RunData>& runs);

}  // namespace grove::experiments::report
