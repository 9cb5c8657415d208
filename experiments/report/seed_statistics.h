// The statistics of a metric over the seeds of one strategy — mean and sample standard deviation — and the rule the
// report uses to call two strategies' means different: "differs by more than the seed spread" when
// |mean_a − mean_b| > std_a + std_b. Pure arithmetic, tested against hand-computed values.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace grove::experiments::report {

struct SeedSpread {
  std::optional<double> mean;    // over the present values; nullopt when there is none
  std::optional<double> stddev;  // sample standard deviation (n − 1 in the denominator); nullopt below two values
  size_t used = 0;               // values present
  size_t missing = 0;            // values absent (a run whose metric could not be computed): skipped, never 0
};

SeedSpread seed_spread(const std::vector<std::optional<double>>& values);

enum class SpreadVerdict {
  kDiffers,       // |mean_a − mean_b| > std_a + std_b
  kWithin,        // |mean_a − mean_b| ≤ std_a + std_b
  kUndetermined,  // a mean or a standard deviation is missing (fewer than two values on a side)
};

SpreadVerdict compare_spreads(const SeedSpread& a, const SeedSpread& b);

// The rule in words, as the report and docs/REPORTS.md state it.
inline constexpr const char* kSpreadRule =
    "two strategies differ by more than the seed spread on a metric when |mean_a − mean_b| > std_a + std_b "
    "(sample standard deviations over their seeds); otherwise the difference is within the seed spread, and with "
    "fewer than two seeds on a side it cannot be told";

}  // namespace grove::experiments::report
