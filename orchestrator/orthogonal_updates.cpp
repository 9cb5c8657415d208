#include "orchestrator/orthogonal_updates.h"

#include <fmt/format.h>

#include "orchestrator/token_rows.h"

namespace grove::orch {

torch::Tensor principal_basis(const std::vector<torch::Tensor>& moments, double energy) {
  TORCH_CHECK(!moments.empty(), "principal_basis: no second moments");
  torch::Tensor sum;
  for (const auto& moment : moments) {
    const torch::Tensor m = moment.to(torch::kDouble);
    const torch::Tensor normalised = m / std::max(1e-30, m.trace().item<double>());
    sum = sum.defined() ? sum + normalised : normalised;
  }
  const auto [values, vectors] = torch::linalg_eigh(sum);  // ascending
  const torch::Tensor descending = values.flip(0).clamp_min(0);
  const torch::Tensor share = descending.cumsum(0) / descending.sum().clamp_min(1e-30);
  const int64_t rank = std::min<int64_t>(share.size(0), (share < energy).sum().item<int64_t>() + 1);
  return vectors.flip(1).slice(1, 0, rank).to(torch::kFloat).contiguous();
}

OrthogonalUpdates::OrthogonalUpdates(model::MoeTransformer& model, const std::vector<DistributionSketch>& earlier)
    : d_model_(model.config().d_model) {
  TORCH_CHECK(!earlier.empty(), "OrthogonalUpdates: at least one earlier distribution's sketch is needed");
  const auto device = model.device();
  auto parameters = model.named_parameters();
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    std::vector<torch::Tensor> moments;
    for (const auto& sketch : earlier) moments.push_back(sketch.attention_moment[static_cast<size_t>(layer)]);
    const torch::Tensor basis = principal_basis(moments, kEnergy).to(device);
    attention_free_.push_back(d_model_ - basis.size(1));
    for (const char* name : {"q_proj", "k_proj", "v_proj"}) {
      const torch::Tensor parameter = parameters[fmt::format("layers.{}.attn.{}", layer, name)];
      if (parameter.requires_grad()) constrained_.push_back({parameter, basis, {}, {}});
    }
  }
  std::vector<torch::Tensor> head_moments;
  for (const auto& sketch : earlier) head_moments.push_back(sketch.head_moment);
  const torch::Tensor head = model.lm_head();
  if (head.requires_grad() && !model.config().tie_embeddings) {  // a tied head is the embedding: rows kept whole
    // Rows of tokens no earlier distribution used train freely (their logits are new); the others are projected.
    const torch::Tensor used = earlier_tokens(earlier, model.config().vocab_size);
    head_index_ = static_cast<int64_t>(constrained_.size());
    constrained_.push_back({head,
                            principal_basis(head_moments, kEnergy).to(device),
                            (~used).to(torch::kFloat).reshape({-1, 1}).to(device),
                            {}});
  }
}

void OrthogonalUpdates::before_step() {
  torch::NoGradGuard no_grad;
  for (auto& item : constrained_) item.start = item.parameter.detach().clone();
}

void OrthogonalUpdates::after_step() {
  torch::NoGradGuard no_grad;
  for (auto& item : constrained_) {
    TORCH_CHECK(item.start.defined(), "OrthogonalUpdates::after_step without before_step");
    const torch::Tensor update = item.parameter - item.start;
    torch::Tensor projected = update - update.matmul(item.basis).matmul(item.basis.t());
    if (item.free_rows.defined()) projected = projected + (update - projected) * item.free_rows;
    item.parameter.copy_(item.start + projected);
    item.start = torch::Tensor();
  }
}

int64_t OrthogonalUpdates::head_free_directions() const {
  return head_index_ < 0 ? d_model_ : d_model_ - constrained_[static_cast<size_t>(head_index_)].basis.size(1);
}

std::vector<int64_t> OrthogonalUpdates::attention_free_directions() const {
  return attention_free_;
}

}  // namespace grove::orch
