// Fused kernels for the grouped expert path (model/expert_dispatch.cpp) on CUDA: SwiGLU forward and backward in one
// pass each, and the widening of the experts' bf16 weight gradients to their fp32 parameters' gradients. Without
// them the same work is five ATen kernels forward and about ten backward, most of them on strided halves of h13
// (non-vectorised), which cost more GPU time than the expert GEMMs themselves (docs/PERFORMANCE.md).
// Builds with CUDA compile fused_swiglu_cuda.cpp and swiglu_kernels.cu; others fused_kernels_none.cpp, where
// nothing is available and the dispatch keeps its ATen formulation.
#pragma once

#include <torch/torch.h>

#include <utility>

#include "model/fused_switch.h"

namespace grove::model::fused {

// Whether the fused kernels may run on these operands: a CUDA build, the switch on (fused_switch.h), CUDA bf16
// contiguous tensors with 16-byte aligned storage, and a width that is a multiple of 8.
bool swiglu_available(const torch::Tensor& h13);
bool widen_available(const torch::Tensor& grads);

// u = gate * silu(h1) * h3 for h13 = [h1 | h3] of shape [rows, 2f]; gate [rows], any floating dtype.
torch::Tensor swiglu_forward(const torch::Tensor& h13, const torch::Tensor& gate);

struct SwigluGradients {
  torch::Tensor dh13;   // [rows, 2f] bf16
  torch::Tensor dgate;  // [rows] fp32; undefined unless asked for
};
SwigluGradients swiglu_backward(const torch::Tensor& du, const torch::Tensor& h13, const torch::Tensor& gate,
                                bool want_dgate);

// grads [experts, rows, cols] bf16 from one grouped GEMM with int32 row ends `ends` [experts]: fp32 copies of rows
// [0, split) and [split, rows) of each expert (the second undefined when split == rows), zeros for an expert with
// no rows.
std::pair<torch::Tensor, torch::Tensor> widen_expert_gradients(const torch::Tensor& grads, const torch::Tensor& ends,
                                                               int64_t split);

}  // namespace grove::model::fused
