#include "model/growth.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "common/errors.h"
#include "model/moe_transformer.h"
#include "model/seeded_init.h"

namespace grove::model {
namespace {

// Per layer, the parent slot of each new expert: the most used experts first (ties: lower slot), wrapping around.
std::vector<std::vector<int64_t>> choose_parents(const torch::Tensor& counts, int64_t n_layers, int64_t n_experts,
                                                 int64_t n_new) {
  if (!counts.defined() || counts.dim() != 2 || counts.size(0) != n_layers || counts.size(1) != n_experts) {
    throw ConfigError(fmt::format("growth: init 'copy' needs parent routing counts of shape [{}, {}] (layers x "
                                  "experts) from a pre-pass on the new distribution, got {}",
                                  n_layers, n_experts, counts.defined() ? c10::str(counts.sizes()) : "none"));
  }
  const torch::Tensor host = counts.to(torch::kCPU, torch::kDouble).contiguous();
  const double* values = host.data_ptr<double>();
  std::vector<std::vector<int64_t>> parents(static_cast<size_t>(n_layers));
  for (int64_t layer = 0; layer < n_layers; ++layer) {
    std::vector<int64_t> order(static_cast<size_t>(n_experts));
    std::iota(order.begin(), order.end(), 0);
    const double* row = values + layer * n_experts;
    std::stable_sort(order.begin(), order.end(), [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    for (int64_t j = 0; j < n_new; ++j) parents[static_cast<size_t>(layer)].push_back(order[static_cast<size_t>(j % n_experts)]);
  }
  return parents;
}

// `destination` = `source` + N(0, (noise_std * rms(source))^2), the noise seeded by `seed`.
void copy_with_noise(const torch::Tensor& destination, const torch::Tensor& source, double noise_std, uint64_t seed) {
  const double rms = source.to(torch::kDouble).pow(2).mean().sqrt().item<double>();
  destination.copy_(source);
  if (noise_std > 0.0 && rms > 0.0) {
    destination.add_(seeded_normal(source.sizes(), noise_std * rms, seed).to(destination.options()));
  }
}

}  // namespace

std::string growth_init_name(GrowthInit init) { return init == GrowthInit::kCopy ? "copy" : "random"; }

GrowthInit parse_growth_init(const std::string& text, const std::string& key) {
  if (text == "copy") return GrowthInit::kCopy;
  if (text == "random") return GrowthInit::kRandom;
  throw ConfigError(fmt::format("key '{}': '{}' is not one of copy, random", key, text));
}

std::vector<LineageEntry> grow(MoeTransformer& model, const GrowthOptions& options) {
  if (options.n_per_layer < 1) {
    throw ConfigError(fmt::format("growth: n_per_layer must be >= 1, got {}", options.n_per_layer));
  }
  if (!(options.noise_std >= 0.0)) throw ConfigError(fmt::format("growth: noise_std must be >= 0, got {}", options.noise_std));
  const int64_t n_layers = model.n_layers();
  std::vector<std::vector<int64_t>> parents;
  if (options.init == GrowthInit::kCopy) {
    parents = choose_parents(options.parent_routing_counts, n_layers, model.n_experts_per_layer(), options.n_per_layer);
  }
  const size_t group_index = model.append_group(options.n_per_layer);
  std::vector<LineageEntry> lineage;
  torch::NoGradGuard no_grad;
  for (int64_t layer = 0; layer < n_layers; ++layer) {
    MoeLayerImpl& moe = model.layer(layer).moe();
    ExpertGroupImpl& group = moe.group(group_index);
    const int64_t first = moe.first_slot(group_index);
    const std::string prefix = fmt::format("layers.{}.moe.groups.{}.", layer, group_index);
    if (options.init == GrowthInit::kRandom) {
      for (const auto& item : group.named_parameters()) {
        initialise_parameter(prefix + item.key(), item.value(), model.config(), options.seed);
      }
    }
    for (int64_t j = 0; j < options.n_per_layer; ++j) {
      LineageEntry entry{layer, first + j, static_cast<int64_t>(group_index), std::nullopt, options.init};
      if (options.init == GrowthInit::kCopy) {
        const int64_t parent = parents[static_cast<size_t>(layer)][static_cast<size_t>(j)];
        const auto [parent_group_index, parent_index] = moe.locate(parent);
        const ExpertGroupImpl& parent_group = moe.group(parent_group_index);
        const auto source = parent_group.named_parameters();
        for (const auto& item : group.named_parameters()) {
          const uint64_t seed = derive_seed(options.seed, fmt::format("{}{}/{}", prefix, item.key(), j));
          copy_with_noise(item.value()[j], source[item.key()][parent_index], options.noise_std, seed);
        }
        entry.parent_slot = parent;
      }
      lineage.push_back(entry);
    }
    group.set_experts_trainable(true);
    group.set_gate_trainable(true);
  }
  return lineage;
}

}  // namespace grove::model
