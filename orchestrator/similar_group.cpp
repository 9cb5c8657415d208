#include "orchestrator/similar_group.h"

#include <fmt/format.h>

namespace grove::orch {

GroupShares group_routing_shares(const torch::Tensor& routing_counts, const std::vector<int64_t>& group_sizes) {
  TORCH_CHECK(!group_sizes.empty(), "group_routing_shares: the model has no expert group");
  int64_t slots = 0;
  for (const int64_t size : group_sizes) {
    TORCH_CHECK(size > 0, "group_routing_shares: a group of ", size, " experts");
    slots += size;
  }
  TORCH_CHECK(routing_counts.dim() == 2 && routing_counts.size(1) == slots, "group_routing_shares: counts ",
              routing_counts.sizes(), " do not match ", slots, " expert slots per layer");
  const torch::Tensor counts = routing_counts.to(torch::kCPU, torch::kDouble);
  const torch::Tensor totals = counts.sum(1);  // [L]
  const auto layers = static_cast<double>(counts.size(0));
  GroupShares shares;
  int64_t first = 0;
  for (const int64_t size : group_sizes) {
    const torch::Tensor in_group = counts.narrow(1, first, size).sum(1);
    // Per layer: the group's share of the layer's assignments (0 where the layer has none).
    const torch::Tensor share = torch::where(totals > 0, in_group / totals.clamp_min(1.0), torch::zeros_like(totals));
    const double mean = layers > 0 ? share.sum().item<double>() / layers : 0.0;
    shares.share.push_back(mean);
    shares.share_per_expert.push_back(mean / static_cast<double>(size));
    first += size;
  }
  shares.chosen = most_similar_group(shares.share_per_expert);
  return shares;
}

int64_t most_similar_group(const std::vector<double>& share_per_expert) {
  TORCH_CHECK(!share_per_expert.empty(), "most_similar_group: no group to choose from");
  size_t best = 0;
  for (size_t g = 1; g < share_per_expert.size(); ++g) {
    if (share_per_expert[g] >= share_per_expert[best]) best = g;
  }
  return static_cast<int64_t>(best);
}

std::string describe_group_shares(const GroupShares& shares, const std::vector<int64_t>& group_sizes) {
  std::string text;
  for (size_t g = 0; g < shares.share.size() && g < group_sizes.size(); ++g) {
    text +=
        fmt::format("{}group {}: {:.1f}% over {}{}, {:.1f}% each", text.empty() ? "" : "; ", g, 100.0 * shares.share[g],
                    group_sizes[g], g == 0 ? " experts" : "", 100.0 * shares.share_per_expert[g]);
  }
  return text;
}

}  // namespace grove::orch
