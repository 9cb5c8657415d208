#include "model/moe_layer.h"

#include "model/router.h"

#include <stdexcept>
#include <string>

namespace grove::model {

MoeLayerImpl::MoeLayerImpl(int64_t top_k, double router_noise_std)
    : group_list_(register_module("groups", torch::nn::ModuleList())),
      top_k_(top_k),
      router_noise_std_(router_noise_std) {}

void MoeLayerImpl::add_group(ExpertGroup group) {
  if (!groups_.empty()) {
    TORCH_CHECK(group->d_model() == groups_[0]->d_model() && group->d_expert() == groups_[0]->d_expert() &&
                    group->has_gate_bias() == groups_[0]->has_gate_bias(),
                "MoeLayer::add_group: a new group must match the existing groups' widths and router bias");
  }
  group_list_->push_back(group);
  groups_.push_back(std::move(group));
}

int64_t MoeLayerImpl::n_experts() const {
  int64_t total = 0;
  for (const auto& group : groups_) total += group->n_experts();
  return total;
}

int64_t MoeLayerImpl::first_slot(size_t group_index) const {
  TORCH_CHECK(group_index <= groups_.size(), "MoeLayer::first_slot: no group ", group_index);
  int64_t slot = 0;
  for (size_t g = 0; g < group_index; ++g) slot += groups_[g]->n_experts();
  return slot;
}

std::pair<size_t, int64_t> MoeLayerImpl::locate(int64_t slot) const {
  int64_t first = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (slot >= first && slot < first + groups_[g]->n_experts()) return {g, slot - first};
    first += groups_[g]->n_experts();
  }
  throw std::out_of_range("MoeLayer::locate: slot " + std::to_string(slot) + " is outside 0.." +
                          std::to_string(first - 1));
}

MoeOutput MoeLayerImpl::forward(const torch::Tensor& x, const MoeOptions& options) {
  TORCH_CHECK(!groups_.empty(), "MoeLayer::forward: the layer has no experts");
  std::vector<torch::Tensor> gate_weights, gate_biases;
  std::vector<GroupWeights> weights;
  int64_t slot = 0;
  for (const auto& group : groups_) {
    gate_weights.push_back(group->gate_weight());
    gate_biases.push_back(group->gate_bias());
    weights.push_back({group->w1(), group->w3(), group->w2(), slot});
    slot += group->n_experts();
  }
  // Evaluation mode gives back the memory of the weight stacks kept between training forwards (a full stack of the
  // layer's experts) and does not use them, with or without gradients; the next training forward builds them again.
  if (!is_training() && stack_cache_.w13.defined()) stack_cache_ = ExpertStackCache{};
  RouterOptions router;
  router.top_k = top_k_;
  router.noise_std = router_noise_std_;
  router.training = is_training();
  router.generator = options.noise_generator;
  RouterDecision decision = route_tokens(x, gate_weights, gate_biases, router);
  MoeOutput output;
  output.y = run_experts(x, decision.expert_index, decision.gate, decision.counts, weights, options.backend,
                         is_training() ? &stack_cache_ : nullptr, options.output_dtype.value_or(x.scalar_type()),
                         options.expert_gradients);
  output.load_balance_loss = decision.load_balance_loss;
  output.z_loss = decision.z_loss;
  output.counts = decision.counts;
  return output;
}

}  // namespace grove::model
