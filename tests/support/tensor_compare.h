// ||a - b|| / ||b|| of two tensors, in double precision on the CPU: the comparison every numerical test uses.
// Header-only so that suites with LibTorch can use it while grove_test_support itself stays free of LibTorch.
#pragma once

#include <torch/torch.h>

namespace grove::testing {

inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor a64 = a.detach().to(torch::kCPU, torch::kDouble);
  const torch::Tensor b64 = b.detach().to(torch::kCPU, torch::kDouble);
  return ((a64 - b64).norm() / b64.norm().clamp_min(1e-30)).item<double>();
}

}  // namespace grove::testing
