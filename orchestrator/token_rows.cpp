#include "orchestrator/token_rows.h"

namespace grove::orch {

torch::Tensor earlier_tokens(const std::vector<DistributionSketch>& earlier, int64_t vocab_size) {
  torch::Tensor used = torch::zeros({vocab_size}, torch::kBool);
  for (const auto& sketch : earlier) {
    const double total = std::max<double>(1.0, static_cast<double>(sketch.token_counts.sum().item<int64_t>()));
    used = used | (sketch.token_counts.to(torch::kDouble) / total >= kUsedShare);
  }
  return used;
}

TokenRowMask::TokenRowMask(model::MoeTransformer& model, const std::vector<DistributionSketch>& earlier,
                           bool with_head)
    : TokenRowMask(model, earlier_tokens(earlier, model.config().vocab_size), with_head) {}

TokenRowMask::TokenRowMask(model::MoeTransformer& model, const torch::Tensor& keep, bool with_head) {
  vocabulary_ = model.config().vocab_size;
  TORCH_CHECK(keep.dim() == 1 && keep.size(0) == vocabulary_, "TokenRowMask: keep must be [", vocabulary_, "], got ",
              keep.sizes());
  const torch::Tensor used = keep.to(torch::kBool);
  const auto device = model.device();
  keep_index_ = used.nonzero().reshape({-1}).to(device);
  train_mask_ = (~used).to(torch::kFloat).reshape({-1, 1}).to(device);
  trainable_rows_ = vocabulary_ - keep_index_.numel();
  for (const auto& [name, tensor] : model.named_trainable_parameters()) {
    if (name == "embed" || (with_head && name == "lm_head")) parameters_.push_back(tensor);
  }
  torch::NoGradGuard no_grad;
  for (const auto& parameter : parameters_) kept_values_.push_back(parameter.index_select(0, keep_index_).clone());
}

void TokenRowMask::mask_gradients() {
  torch::NoGradGuard no_grad;
  for (const auto& parameter : parameters_) {
    if (parameter.grad().defined()) parameter.grad().mul_(train_mask_.to(parameter.grad().scalar_type()));
  }
}

void TokenRowMask::restore_rows() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i].index_copy_(0, keep_index_, kept_values_[i]);
}

}  // namespace grove::orch
