// The router's work after its logits GEMM (model/router.cpp) as Grove's own CUDA kernels (model/router_kernels.h),
// forward and backward: top-k, gates, assignment counts, the load-balancing loss and the z-loss in two kernels, and
// their gradient with respect to the logits in one, instead of about twenty ATen kernels each way. Same arithmetic
// as the ATen formulation route_tokens keeps for everything else (CPU, the switch off, wider layers).
// Builds with CUDA compile fused_router_cuda.cpp; others fused_kernels_none.cpp, where nothing is available.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "model/fused_switch.h"

namespace grove::model::fused {

struct Routing {
  torch::Tensor expert_index;       // [N, k] int64, best first (equal values: the smaller slot first)
  torch::Tensor gate;               // [N, k] fp32, differentiable
  torch::Tensor counts;             // [E] int64
  torch::Tensor load_balance_loss;  // fp32 scalar, differentiable
  torch::Tensor z_loss;             // fp32 scalar, differentiable
};

// CUDA with the switch on, dense fp32 logits [N, E] with 1 <= N < 2^31, 1 <= E <= 256 and 1 <= top_k <= min(E, 32).
bool router_available(const torch::Tensor& logits, int64_t top_k);

// `selection`: what the top-k chooses by and the gates are the softmax of (the logits plus training noise), the same
// shape as the logits; the logits themselves when undefined. Gradients flow to `logits` only (the noise is a
// constant). Outputs as RouterDecision's (model/router.h).
Routing route(const torch::Tensor& logits, const torch::Tensor& selection, int64_t top_k);

}  // namespace grove::model::fused
