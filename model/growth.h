// Growth: appends one expert group to every MoE layer and reports the lineage (new slot -> parent slot) that the
// registry stores. `copy` starts each new expert as a noisy copy of a parent, the expert this distribution's tokens
// used most in a routing pre-pass (the caller runs forward(..., collect_routing) on the new data and passes the
// counts), its gate row copied likewise; `random` draws fresh weights as at initialisation.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace grove::model {

class MoeTransformer;

enum class GrowthInit { kCopy, kRandom };
std::string growth_init_name(GrowthInit init);
GrowthInit parse_growth_init(const std::string& text, const std::string& key);  // ConfigError naming `key`

struct GrowthOptions {
  int64_t n_per_layer = 1;
  GrowthInit init = GrowthInit::kCopy;
  // [L, E_total] routing counts from the pre-pass; required for kCopy. Parents per layer are the n_per_layer most
  // used experts, most used first (ties: lower slot), wrapping around when n_per_layer > E_total.
  torch::Tensor parent_routing_counts;
  uint64_t seed = 0;
  // kCopy: each copied tensor gets N(0, (noise_std * rms(parent tensor))^2) noise, so copies start near their parent
  // but break the tie with it. kRandom ignores it.
  double noise_std = 0.01;
};

struct LineageEntry {
  int64_t layer = 0;
  int64_t slot = 0;                  // global slot of the new expert in its layer
  int64_t group = 0;                 // index of the group it belongs to
  std::optional<int64_t> parent_slot;  // kCopy: the parent's slot; kRandom: none
  GrowthInit init = GrowthInit::kCopy;
};

// Appends one group of n_per_layer experts to every layer of `model`, initialised per `options`; the new group's
// tensors require grad, older groups are untouched (apply a TrainablePolicy afterwards). Returns one entry per new
// expert, layer by layer. Bad options (counts of the wrong shape, n_per_layer < 1) throw ConfigError.
std::vector<LineageEntry> grow(MoeTransformer& model, const GrowthOptions& options);

}  // namespace grove::model
