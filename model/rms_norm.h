// RMSNorm (Zhang & Sennrich 2019) exactly as Mixtral computes it: normalise in fp32, cast back to the input dtype,
// then scale by the weight. Header-only: it is three lines and every decoder file uses it.
#pragma once

#include <torch/torch.h>

namespace grove::model {

inline torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  const torch::Tensor x32 = x.to(torch::kFloat);
  const torch::Tensor normalised = x32 * torch::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normalised.to(x.scalar_type());
}

}  // namespace grove::model
