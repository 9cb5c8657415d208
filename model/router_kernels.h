// The MoE router's work after its logits GEMM (model/router.h) as three CUDA kernels: top-k selection, the gates
// (softmax over the k selected logits), per-expert assignment counts, the Switch load-balancing loss and the z-loss
// forward, and the gradient of all of them with respect to the logits backward. ATen needs about twenty small
// kernels each way for the same (topk, two softmaxes, index_add, logsumexp, the loss arithmetic and their
// backwards), which at [16384, 64] fp32 cost more in launches than in memory traffic.
// Deterministic: every sum runs in a fixed order (per-block partials, then one block sums them), no float atomics.
// Plain C++ interface, no LibTorch: the .cu file compiles with nvcc alone; model/fused_router.h wraps it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

constexpr int kMaxRouterExperts = 256;  // each lane of a token's warp holds 8 of them in registers
constexpr int kMaxRouterTopK = 32;      // the k selected experts are spread over the warp's lanes

// Blocks of route_forward for `tokens` tokens: the leading dimension of its per-block partial buffers.
int route_forward_blocks(int64_t tokens);

// logits, selection: fp32 [tokens, experts] row-major (selection = logits plus noise in training, or the same
// pointer). Selects per token the k largest selection values (larger first; equal values in slot order) and writes
//   expert_index [tokens, k] int64, gate [tokens, k] fp32 = softmax of the k selected selection values,
//   lse [tokens] = logsumexp of the logits row,
//   partial_probability [blocks, experts] = per-block sums of softmax(logits row),
//   partial_count [blocks, experts] int32 = per-block assignment counts, partial_z [blocks] = per-block sums of lse^2,
// with blocks = route_forward_blocks(tokens). Requires 1 <= experts <= kMaxRouterExperts, 1 <= k <= min(experts,
// kMaxRouterTopK), 1 <= tokens < 2^31.
cudaError_t route_forward(const float* logits, const float* selection, int64_t tokens, int experts, int k,
                          int64_t* expert_index, float* gate, float* lse, float* partial_probability,
                          int32_t* partial_count, float* partial_z, cudaStream_t stream);

// Sums route_forward's partials (blocks of them) in a fixed order: counts [experts] int64, fraction [experts] fp32
// = counts / (tokens * k), load_balance = experts * sum_e fraction_e * mean probability_e, z_loss = mean lse^2.
cudaError_t route_finalize(const float* partial_probability, const int32_t* partial_count, const float* partial_z,
                           int blocks, int64_t tokens, int experts, int k, int64_t* counts, float* fraction,
                           float* load_balance, float* z_loss, cudaStream_t stream);

// dlogits [tokens, experts] fp32: the gradient through the gates (dgate [tokens, k], or null for none), the
// load-balancing loss and the z-loss (dload_balance, dz: device scalars, or null for none), given what
// route_forward and route_finalize wrote (expert_index, gate, lse, fraction).
cudaError_t route_backward(const float* logits, const float* lse, const int64_t* expert_index, const float* gate,
                           const float* dgate, const float* fraction, const float* dload_balance, const float* dz,
                           int64_t tokens, int experts, int k, float* dlogits, cudaStream_t stream);

}  // namespace grove::model::kernels
