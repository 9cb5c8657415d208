#include "orchestrator/growth_policy.h"

#include <fmt/format.h>

#include <numeric>

#include "common/errors.h"

namespace grove::orch {

GrowthMode parse_growth_mode(const std::string& text, const std::string& where) {
  if (text == "always") return GrowthMode::kAlways;
  if (text == "never") return GrowthMode::kNever;
  if (text == "novelty") return GrowthMode::kNovelty;
  throw ConfigError(fmt::format("{}: growth policy '{}' is not known; expected always, never or novelty", where, text));
}

std::string to_string(GrowthMode mode) {
  switch (mode) {
    case GrowthMode::kAlways: return "always";
    case GrowthMode::kNever: return "never";
    case GrowthMode::kNovelty: return "novelty";
  }
  return "?";
}

GrowthDecision decide_growth(GrowthMode mode, double novelty_ratio, int experts_per_layer,
                             const NoveltyEvidence& evidence) {
  if (experts_per_layer <= 0) return {false, "policy adds 0 experts per layer: no growth"};
  switch (mode) {
    case GrowthMode::kAlways:
      return {true, fmt::format("policy 'always': +{} experts per layer", experts_per_layer)};
    case GrowthMode::kNever:
      return {false, "policy 'never': train without growth"};
    case GrowthMode::kNovelty:
      break;
  }
  if (!evidence.new_bpb || evidence.seen_bpbs.empty()) {
    return {true, fmt::format("policy 'novelty': no evidence to compare (new bpb {}, {} seen distributions); "
                              "growing +{} experts per layer to be safe",
                              evidence.new_bpb ? fmt::format("{:.4f}", *evidence.new_bpb) : "missing",
                              evidence.seen_bpbs.size(), experts_per_layer)};
  }
  const double seen_mean = std::accumulate(evidence.seen_bpbs.begin(), evidence.seen_bpbs.end(), 0.0) /
                           static_cast<double>(evidence.seen_bpbs.size());
  const double threshold = novelty_ratio * seen_mean;
  const double ratio = *evidence.new_bpb / seen_mean;
  if (*evidence.new_bpb > threshold) {
    return {true, fmt::format("policy 'novelty': new bpb {:.4f} > {:.2f} × seen mean {:.4f} = {:.4f} (ratio {:.3f}); "
                              "+{} experts per layer",
                              *evidence.new_bpb, novelty_ratio, seen_mean, threshold, ratio, experts_per_layer)};
  }
  return {false, fmt::format("policy 'novelty': new bpb {:.4f} <= {:.2f} × seen mean {:.4f} = {:.4f} (ratio {:.3f}); "
                             "train without growth",
                             *evidence.new_bpb, novelty_ratio, seen_mean, threshold, ratio)};
}

}  // namespace grove::orch
