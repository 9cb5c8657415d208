#include "orchestrator/routing_isolation.h"

#include <fmt/format.h>

#include "model/seeded_init.h"

namespace grove::orch {
namespace {

struct SplitLogits {
  torch::Tensor old_logits;  // [N, E_old]
  torch::Tensor new_logits;  // [N, E_new]
};

SplitLogits router_logits(const model::MoeLayerImpl& moe, size_t new_group, const torch::Tensor& x) {
  std::vector<torch::Tensor> old_pieces;
  torch::Tensor new_logits;
  for (size_t g = 0; g < moe.n_groups(); ++g) {
    const model::ExpertGroupImpl& group = moe.group(g);
    torch::Tensor logits = torch::matmul(x, group.gate_weight().to(torch::kFloat).t());
    if (group.gate_bias().defined()) logits = logits + group.gate_bias().to(torch::kFloat);
    if (g == new_group) {
      new_logits = logits;
    } else {
      old_pieces.push_back(logits);
    }
  }
  return {torch::cat(old_pieces, 1), new_logits};
}

// The k-th best of `logits` [N, E] per row (the last place in the top-k; the last column when E < k).
torch::Tensor kth_best(const torch::Tensor& logits, int64_t top_k) {
  const int64_t k = std::min<int64_t>(top_k, logits.size(1));
  return std::get<0>(logits.topk(k, 1)).select(1, k - 1);
}

bool old_rows_frozen(const model::MoeLayerImpl& moe, size_t new_group) {
  for (size_t g = 0; g < moe.n_groups(); ++g) {
    if (g != new_group && moe.group(g).gate_trainable()) return false;
  }
  return true;
}

}  // namespace

RoutingIsolation::RoutingIsolation(const model::MoeTransformer& model, size_t new_group,
                                   const std::vector<DistributionSketch>& earlier, uint64_t seed)
    : new_group_(new_group), top_k_(model.config().top_k) {
  TORCH_CHECK(!earlier.empty(), "RoutingIsolation: at least one earlier distribution's sketch is needed");
  TORCH_CHECK(model.group_sizes().size() > 1 && new_group < model.group_sizes().size(), "RoutingIsolation: group ",
              new_group, " of a model of ", model.group_sizes().size(),
              " groups has no other group to keep apart from");
  const int64_t d = model.config().d_model;
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    std::vector<torch::Tensor> pieces;
    for (size_t j = 0; j < earlier.size(); ++j) {
      const auto& sketch = earlier[j];
      const torch::Tensor z = model::seeded_normal(
          {kSamplesPerDistribution, d}, 1.0, model::derive_seed(seed, fmt::format("layer {} sketch {}", layer, j)));
      pieces.push_back(sketch.mean[static_cast<size_t>(layer)] +
                       z.matmul(sketch.factor[static_cast<size_t>(layer)].t()));
    }
    synthetic_.push_back(torch::cat(pieces, 0).to(model.device(), torch::kFloat));
    // Under the `new_rows` gate policy the old rows are frozen: their k-th best logit on the fixed samples is the
    // same at every step, so it is computed once here instead of in every step's guard.
    const model::MoeLayerImpl& moe = model.layer(layer).moe();
    torch::Tensor kth_old;
    if (old_rows_frozen(moe, new_group)) {
      torch::NoGradGuard no_grad;
      kth_old = kth_best(router_logits(moe, new_group, synthetic_.back()).old_logits, top_k_);
    }
    kth_old_.push_back(kth_old);
  }
}

torch::Tensor RoutingIsolation::guard_gaps(const model::MoeTransformer& model, int64_t layer) const {
  const auto index = static_cast<size_t>(layer);
  const auto logits = router_logits(model.layer(layer).moe(), new_group_, synthetic_[index]);
  const torch::Tensor best_new = std::get<0>(logits.new_logits.max(1));
  return best_new - (kth_old_[index].defined() ? kth_old_[index] : kth_best(logits.old_logits, top_k_));
}

torch::Tensor RoutingIsolation::guard(const model::MoeTransformer& model) const {
  torch::Tensor total = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat).device(model.device()));
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    total = total + torch::relu(guard_gaps(model, layer) + kMargin).mean();
  }
  return total / static_cast<double>(model.n_layers());
}

torch::Tensor RoutingIsolation::loss(const model::MoeTransformer& model,
                                     const std::vector<torch::Tensor>& router_inputs) const {
  TORCH_CHECK(static_cast<int64_t>(router_inputs.size()) == model.n_layers(),
              "RoutingIsolation::loss: one router input per layer is needed");
  torch::Tensor attraction = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat).device(model.device()));
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    const torch::Tensor x = router_inputs[static_cast<size_t>(layer)].detach().to(torch::kFloat);
    const auto logits = router_logits(model.layer(layer).moe(), new_group_, x);
    const torch::Tensor best_old = std::get<0>(logits.old_logits.max(1));
    const torch::Tensor best_new = std::get<0>(logits.new_logits.max(1));
    attraction = attraction + torch::relu(best_old - best_new + kMargin).mean();
  }
  return guard(model) + attraction / static_cast<double>(model.n_layers());
}

double RoutingIsolation::leaked_share(const model::MoeTransformer& model) const {
  torch::NoGradGuard no_grad;
  double leaked = 0.0;
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    leaked += (guard_gaps(model, layer) > 0).to(torch::kDouble).mean().item<double>();
  }
  return leaked / static_cast<double>(model.n_layers());
}

}  // namespace grove::orch
