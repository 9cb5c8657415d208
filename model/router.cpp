#include "model/router.h"

#include "model/fused_router.h"

namespace grove::model {

RouterDecision route_tokens(const torch::Tensor& x, const std::vector<torch::Tensor>& gate_weights,
                            const std::vector<torch::Tensor>& gate_biases, const RouterOptions& options) {
  TORCH_CHECK(x.dim() == 2, "route_tokens: expected x [N, d]");
  TORCH_CHECK(!gate_weights.empty() && gate_weights.size() == gate_biases.size(),
              "route_tokens: one (weight, bias) pair per group");
  std::vector<torch::Tensor> pieces;
  pieces.reserve(gate_weights.size());
  for (size_t g = 0; g < gate_weights.size(); ++g) {
    torch::Tensor logits = torch::matmul(x, gate_weights[g].t());
    if (gate_biases[g].defined()) logits = logits + gate_biases[g];
    pieces.push_back(logits.to(torch::kFloat));
  }
  const torch::Tensor logits = pieces.size() == 1 ? pieces[0] : torch::cat(pieces, 1);
  const int64_t n_experts = logits.size(1);
  TORCH_CHECK(options.top_k >= 1 && options.top_k <= n_experts, "route_tokens: top_k must be in [1, E]");

  torch::Tensor selection_logits = logits;
  if (options.training && options.noise_std > 0.0) {
    const torch::Tensor noise = torch::randn(logits.sizes(), options.generator, logits.options());
    selection_logits = logits + noise * options.noise_std;
  }
  if (logits.size(0) > 0 && fused::router_available(logits, options.top_k)) {
    fused::Routing fused_routing = fused::route(logits, selection_logits, options.top_k);
    return {std::move(fused_routing.expert_index), std::move(fused_routing.gate), std::move(fused_routing.counts),
            std::move(fused_routing.load_balance_loss), std::move(fused_routing.z_loss)};
  }
  auto [top_logits, expert_index] = selection_logits.topk(options.top_k, /*dim=*/1);
  RouterDecision decision;
  decision.expert_index = expert_index;
  decision.gate = torch::softmax(top_logits, 1);

  const torch::Tensor flat = expert_index.reshape({-1});
  decision.counts = torch::zeros({n_experts}, flat.options()).index_add_(0, flat, torch::ones_like(flat));
  const int64_t n_tokens = logits.size(0);
  if (n_tokens == 0) {
    decision.load_balance_loss = torch::zeros({}, logits.options());
    decision.z_loss = torch::zeros({}, logits.options());
    return decision;
  }
  // Switch Transformer (Fedus et al. 2021): f_e = share of assignments to e (no gradient), P_e = mean router
  // probability of e; the product is minimised by uniform routing.
  const torch::Tensor fraction = decision.counts.to(torch::kFloat) / static_cast<double>(n_tokens * options.top_k);
  const torch::Tensor mean_probability = torch::softmax(logits, 1).mean(0);
  decision.load_balance_loss = (fraction * mean_probability).sum() * static_cast<double>(n_experts);
  // ST-MoE (Zoph et al. 2022): keeps router logits small so the softmax stays well conditioned.
  decision.z_loss = torch::logsumexp(logits, 1).pow(2).mean();
  return decision;
}

}  // namespace grove::model
