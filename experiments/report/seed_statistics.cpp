#include "experiments/report/seed_statistics.h"

#include <cmath>

namespace grove::experiments::report {

SeedSpread seed_spread(const std::vector<std::optional<double>>& values) {
  SeedSpread out;
  double sum = 0;
  for (const auto& value : values) {
    if (!value) {
      ++out.missing;
      continue;
    }
    sum += *value;
    ++out.used;
  }
  if (out.used == 0) return out;
  const double mean = sum / static_cast<double>(out.used);
  out.mean = mean;
  if (out.used < 2) return out;
  double squares = 0;
  for (const auto& value : values) {
    if (value) squares += (*value - mean) * (*value - mean);
  }
  out.stddev = std::sqrt(squares / static_cast<double>(out.used - 1));
  return out;
}

SpreadVerdict compare_spreads(const SeedSpread& a, const SeedSpread& b) {
  if (!a.mean || !b.mean || !a.stddev || !b.stddev) return SpreadVerdict::kUndetermined;
  return std::abs(*a.mean - *b.mean) > *a.stddev + *b.stddev ? SpreadVerdict::kDiffers : SpreadVerdict::kWithin;
}

}  // namespace grove::experiments::report
