// The growth decision for a new distribution: `always`, `never`, or `novelty` — grow when the current model's
// bits-per-byte on the new distribution exceeds `novelty_ratio` × the mean bits-per-byte of the seen distributions
// under the same model. The decision carries a human-readable reason with the numbers, stored in the registry.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace grove::orch {

enum class GrowthMode { kAlways, kNever, kNovelty };

GrowthMode parse_growth_mode(const std::string& text, const std::string& where);
std::string to_string(GrowthMode mode);

struct GrowthDecision {
  bool grow = false;
  std::string reason;
};

struct NoveltyEvidence {
  std::optional<double> new_bpb;    // current model on the new distribution's holdout
  std::vector<double> seen_bpbs;    // current model on each seen distribution's holdout
};

GrowthDecision decide_growth(GrowthMode mode, double novelty_ratio, int experts_per_layer,
                             const NoveltyEvidence& evidence);

}  // namespace grove::orch
