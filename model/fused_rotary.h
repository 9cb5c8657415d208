// Rotary position embedding in one CUDA kernel per direction (rotary_kernels.cu), differentiable: the forward
// reads the q/k heads straight out of the fused QKV projection's output (a strided view) and writes them rotated;
// the backward is the inverse rotation. The ATen formulation in attention.cpp takes three kernels forward and
// three backward plus the split's concatenation. Builds without CUDA compile fused_kernels_none.cpp.
#pragma once

#include <torch/torch.h>

#include "model/fused_switch.h"

namespace grove::model::fused {

// Whether rotary() may run on x [batch, length, heads, head_dim] with these tables: the switch on, CUDA bf16, each
// token's heads dense (any token stride that keeps 16-byte alignment), head_dim a multiple of 16, cos and sin fp32
// [length, head_dim] on x's device.
bool rotary_available(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// x * cos + rotate_half(x) * sin with cos, sin fp32 [length, head_dim] (rotary_tables()); returns a dense
// [batch, length, heads, head_dim] tensor and carries x's gradient.
torch::Tensor rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace grove::model::fused
