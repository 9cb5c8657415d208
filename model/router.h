// The MoE router: logits = x W^T (+ b) over every expert of a layer (all groups, in slot order), the top-k experts
// per token, gate = softmax over the k selected logits only (Mixtral's renormalised top-k), optional noise on the
// logits in training, the Switch load-balancing loss, the router z-loss and per-expert assignment counts.
// Everything stays on the device: no host synchronisation. On CUDA everything after the logits GEMM runs as Grove's
// own kernels (model/fused_router.h; up to 256 experts), elsewhere as ATen operations with the same arithmetic.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/torch_compat.h"

namespace grove::model {

struct RouterOptions {
  int64_t top_k = 2;
  double noise_std = 0.0;  // used only when `training`
  bool training = false;
  compat::Optional<at::Generator> generator;  // for the noise; the device's default generator when absent
};

struct RouterDecision {
  torch::Tensor expert_index;       // [N, k] int64 global slots, best first
  torch::Tensor gate;               // [N, k] float32, rows sum to 1
  torch::Tensor counts;             // [E] int64: (token, k) assignments per expert
  torch::Tensor load_balance_loss;  // scalar: E * sum_e f_e * P_e (1.0 when routing is uniform)
  torch::Tensor z_loss;             // scalar: mean over tokens of logsumexp(logits)^2
};

// `x`: [N, d]. `gate_weights[g]`: [E_g, d]; `gate_biases[g]`: [E_g] or undefined. One matmul per group, so a
// frozen group's rows cost no weight-gradient GEMM.
RouterDecision route_tokens(const torch::Tensor& x, const std::vector<torch::Tensor>& gate_weights,
                            const std::vector<torch::Tensor>& gate_biases, const RouterOptions& options);

}  // namespace grove::model
