// Which expert group a phase without growth trains, under strategies that train one group at a time
// (`experts: newest`): the group of the most similar earlier distribution, judged by where the new distribution's
// tokens already go. A routing pre-pass of the current model counts the (token, k) assignments per expert slot; each
// group's share of them, divided by its size (the base group is bigger than a grown one), is averaged over layers;
// the group with the largest share per expert trains.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace grove::orch {

struct GroupShares {
  std::vector<double> share;             // per group: its share of the (token, k) assignments, mean over layers
  std::vector<double> share_per_expert;  // share / the group's size
  int64_t chosen = 0;                    // the largest share per expert; ties: the newer group
};

// `routing_counts`: [L, E_total] assignments per layer and slot (routing_prepass); `group_sizes`: the model's
// (groups are contiguous slot ranges, in order, in every layer). A layer without assignments counts as no evidence;
// with none in any layer every share is 0 and the newest group is chosen.
GroupShares group_routing_shares(const torch::Tensor& routing_counts, const std::vector<int64_t>& group_sizes);

// The index of the largest value; ties: the later index. `values` is not empty.
int64_t most_similar_group(const std::vector<double>& share_per_expert);

// "group 0: 85.1% over 4 experts, 21.3% each; group 1: 14.9% over 2, 7.5% each"
std::string describe_group_shares(const GroupShares& shares, const std::vector<int64_t>& group_sizes);

}  // namespace grove::orch
