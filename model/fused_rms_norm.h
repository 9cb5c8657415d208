// A residual add and the RMSNorm that reads its sum as one CUDA kernel per direction (model/rms_norm_kernels.h),
// differentiable: what model/rms_norm.h's add_rms_norm runs on CUDA for the fp32 residual stream. The normed rows
// can come out in bf16, the dtype of the GEMM that reads them under autocast, so no cast follows; their gradient is
// then read in bf16 as that GEMM gives it. Same arithmetic as the ATen formulation add_rms_norm keeps for
// everything else (CPU, the switch off, other widths or dtypes).
// Builds with CUDA compile fused_rms_norm_cuda.cpp; others fused_kernels_none.cpp, where nothing is available.
#pragma once

#include <torch/torch.h>

#include "model/fused_switch.h"

namespace grove::model::fused {

struct AddNormed {
  torch::Tensor sum;     // residual + delta (the residual itself when there is no delta)
  torch::Tensor normed;  // rms_norm(sum) * weight in the requested dtype
};

// CUDA with the switch on; residual fp32 [..., width] dense and 16-byte aligned with width a multiple of 128 and at
// most 2048; delta undefined or of residual's shape, dense, fp32 or bf16; weight fp32 [width] dense; normed_dtype
// fp32 or bf16; all on one device.
bool add_rms_norm_available(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                            torch::ScalarType normed_dtype);

// sum = residual + delta, normed = weight * sum / sqrt(mean(sum^2) + eps) (last dimension) in normed_dtype.
// Gradients flow to residual, delta (in its dtype) and weight.
AddNormed add_rms_norm(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                       double eps, torch::ScalarType normed_dtype);

}  // namespace grove::model::fused
