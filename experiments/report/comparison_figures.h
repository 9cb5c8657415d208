// The side-by-side section for several runs (strategies on the same timeline): the headline metrics of every run
// in one grouped bar chart, and per distribution the forgetting and the bits per byte right after it arrived,
// matched across runs by distribution name.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/figure.h"
#include "experiments/report/run_data.h"

namespace grove::experiments::report {

// ACC, BWT, FWT, mean forgetting, mean max-forgetting and new-distribution bpb: groups are metrics, bars are runs.
Figure comparison_metrics_figure(const std::vector<RunData>& runs);
// forgetting_j per distribution (and the mean): groups are distributions, bars are runs.
Figure comparison_forgetting_figure(const std::vector<RunData>& runs);
// R[j][j] for every distribution after the first (and the mean): how well each run learns what arrives.
Figure comparison_new_bpb_figure(const std::vector<RunData>& runs);

// The distributions of all runs in order of first appearance (runs' columns, by name).
std::vector<std::string> union_of_distributions(const std::vector<RunData>& runs);

// "name (strategy)", how charts and tables name a run.
std::string run_label(const RunData& run);

}  // namespace grove::experiments::report
