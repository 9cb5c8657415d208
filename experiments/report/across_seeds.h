// The report's view across seeds: the runs of a report that differ only by seed — the same stored configuration
// (runs.config_yaml) apart from `seed`, `seeds` and `model.seed`, so the same experiment name and strategy — form a
// group, and each group's ACC, mean forgetting, BWT, FWT and new-distribution bpb are summarised over its seeds
// (seed_statistics.h); every pair of groups is compared on ACC and mean forgetting under the seed-spread rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/report/run_data.h"
#include "experiments/report/seed_statistics.h"

namespace grove::experiments::report {

struct SeedGroup {
  std::string experiment;  // the stored configuration's `name` (the run's name when it has none)
  std::string strategy;
  std::vector<const RunData*> runs;  // in report order
  std::vector<int64_t> seeds;        // each run's recorded seed, in the same order
  SeedSpread acc, forgetting, bwt, fwt, new_bpb;
};

struct SpreadComparison {
  size_t a = 0, b = 0;               // indices into AcrossSeeds::groups, a < b
  std::string metric;                // "ACC" or "forgetting"
  std::optional<double> difference;  // mean_a − mean_b
  std::optional<double> spread;      // std_a + std_b
  SpreadVerdict verdict = SpreadVerdict::kUndetermined;
};

struct AcrossSeeds {
  std::vector<SeedGroup> groups;              // in the order of each group's first run
  std::vector<SpreadComparison> comparisons;  // every pair of groups, ACC then forgetting
};

// Groups the runs (which must outlive the result) and computes the statistics.
AcrossSeeds across_seeds(const std::vector<RunData>& runs);

// Whether a report shows the section: some group holds two runs or more.
bool has_repeated_seeds(const AcrossSeeds& across);

// "grove (exp)": how the report names a group; the experiment is left out when every group shares it.
std::string group_label(const AcrossSeeds& across, size_t group);

}  // namespace grove::experiments::report
