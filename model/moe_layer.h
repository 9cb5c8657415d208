// The mixture-of-experts feed-forward of one decoder layer: a router over every expert of the layer and a list of
// expert groups (groups.0 is the base model's, each growth appends one). Slots are global within the layer:
// 0..E_total-1, groups in order.
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "model/expert_dispatch.h"
#include "model/expert_group.h"
#include "model/torch_compat.h"

namespace grove::model {

struct MoeOptions {
  ExpertBackend backend = ExpertBackend::kAuto;
  compat::Optional<at::Generator> noise_generator;  // router noise in training; device default when absent
  // y's dtype; x's when absent. A decoder layer hands the experts its normed rows in their GEMMs' dtype (bf16 under
  // autocast) and adds y to its fp32 residual stream: each token's k expert outputs are then summed in fp32 and kept.
  compat::Optional<torch::ScalarType> output_dtype;
  ExpertGradients expert_gradients = ExpertGradients::kParameterDtype;  // model/expert_dispatch.h
};

struct MoeOutput {
  torch::Tensor y;                  // [N, d] in MoeOptions::output_dtype
  torch::Tensor load_balance_loss;  // scalar
  torch::Tensor z_loss;             // scalar
  torch::Tensor counts;             // [E_total] int64 assignments per slot
};

class MoeLayerImpl : public torch::nn::Module {
 public:
  MoeLayerImpl(int64_t top_k, double router_noise_std);

  // Appends a group (registered as groups.<index>); its experts take the next free slots.
  void add_group(ExpertGroup group);
  size_t n_groups() const { return groups_.size(); }
  ExpertGroupImpl& group(size_t index) { return *groups_[index]; }
  const ExpertGroupImpl& group(size_t index) const { return *groups_[index]; }
  int64_t n_experts() const;
  int64_t first_slot(size_t group_index) const;
  // (group index, index inside the group) of a global slot.
  std::pair<size_t, int64_t> locate(int64_t slot) const;

  // `x`: [N, d]. Router noise is applied in training mode (is_training()).
  MoeOutput forward(const torch::Tensor& x, const MoeOptions& options = {});

 private:
  torch::nn::ModuleList group_list_;
  std::vector<ExpertGroup> groups_;
  ExpertStackCache stack_cache_;  // the grouped path's weight stacks between training forwards
  int64_t top_k_;
  double router_noise_std_;
};
TORCH_MODULE(MoeLayer);

}  // namespace grove::model
