// The fused QKV projection's output handed out as q, k and v heads with the rotary position embedding applied to q
// and k, in one CUDA kernel per direction (rotary_kernels.cu), differentiable. Forward: one pass reads qkv and writes
// the three dense head tensors; backward: one pass writes qkv's gradient from theirs (q's and k's rotated back; under
// grouped-query attention k's and v's gradients arrive in another layout and are copied first). The
// ATen formulation in attention.cpp takes a split, three rotary kernels forward and three backward, and the
// concatenations of the split's backward. Builds without CUDA compile fused_kernels_none.cpp.
#pragma once

#include <torch/torch.h>

#include "model/fused_switch.h"

namespace grove::model::fused {

struct QkvHeads {
  torch::Tensor q;  // [B, T, q_heads, D] dense, rotated
  torch::Tensor k;  // [B, T, kv_heads, D] dense, rotated
  torch::Tensor v;  // [B, T, kv_heads, D] dense
};

// Whether qkv_heads() may run on qkv [B, T, (q_heads + 2 * kv_heads) * D] with these tables: the switch on, CUDA
// bf16, each token's row dense (any token stride that keeps 16-byte alignment), D a multiple of 16, cos and sin fp32
// [T, D] on qkv's device.
bool qkv_heads_available(const torch::Tensor& qkv, int64_t q_heads, int64_t kv_heads, const torch::Tensor& cos,
                         const torch::Tensor& sin);

// q, k, v heads of qkv (columns in that order) with q and k rotated: x * cos + rotate_half(x) * sin, cos and sin
// fp32 [T, D] (rotary_tables()). Carries qkv's gradient.
QkvHeads qkv_heads(const torch::Tensor& qkv, int64_t q_heads, int64_t kv_heads, const torch::Tensor& cos,
                   const torch::Tensor& sin);

}  // namespace grove::model::fused
