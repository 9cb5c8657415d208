// RMSNorm (Zhang & Sennrich 2019) exactly as Mixtral computes it: normalise in fp32, cast back to the input dtype,
// then scale by the weight. Header-only: it is a few lines and every decoder file uses it.
// For fp32 inputs (Grove's residual stream, also under autocast) the formula is weight * x * rsqrt(mean(x^2) + eps)
// with no cast at all, which is what LibTorch's fused kernel computes: on CUDA with LibTorch 2.x that kernel runs
// (one pass forward, one backward, instead of six and ten elementwise kernels).
#pragma once

#include <torch/torch.h>

#include "model/fused_rms_norm.h"
#include "model/torch_compat.h"

namespace grove::model {

inline torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  if (x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat && compat::has_fused_rms_norm(x)) {
    return compat::fused_rms_norm(x, weight, eps);
  }
  const torch::Tensor x32 = x.to(torch::kFloat);
  const torch::Tensor normalised = x32 * torch::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normalised.to(x.scalar_type());
}

// A residual stream and the block output added to it, and the RMSNorm of their sum:
//   sum = residual + delta (residual itself when delta is undefined),
//   normed = rms_norm(sum, weight, eps) in normed_dtype (the dtype of the GEMM that reads it: a bf16 GEMM under
//   autocast would cast it anyway, so the values are the same).
// On CUDA for the fp32 stream of the usual widths this is one kernel each way (model/fused_rms_norm.h) instead of
// the add, the norm, the cast, and backward the norm's two passes, the gradient sum and the casts.
using fused::AddNormed;

inline AddNormed add_rms_norm(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                              double eps, torch::ScalarType normed_dtype) {
  if (fused::add_rms_norm_available(residual, delta, weight, normed_dtype)) {
    return fused::add_rms_norm(residual, delta, weight, eps, normed_dtype);
  }
  torch::Tensor sum = delta.defined() ? residual + delta : residual;
  torch::Tensor normed = rms_norm(sum, weight, eps).to(normed_dtype);
  return {std::move(sum), std::move(normed)};
}

}  // namespace grove::model
