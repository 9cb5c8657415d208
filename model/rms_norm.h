// RMSNorm (Zhang & Sennrich 2019) exactly as Mixtral computes it: normalise in fp32, cast back to the input dtype,
// then scale by the weight. Header-only: it is a few lines and every decoder file uses it.
// For fp32 inputs (Grove's residual stream, also under autocast) the formula is weight * x * rsqrt(mean(x^2) + eps)
// with no cast at all, which is what LibTorch's fused kernel computes: on CUDA with LibTorch 2.x that kernel runs
// (one pass forward, one backward, instead of six and ten elementwise kernels).
#pragma once

#include <torch/torch.h>

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

}  // namespace grove::model
