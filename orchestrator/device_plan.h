// Where and in what precision a run computes: `training.device` auto|cpu|cuda and `training.precision`
// auto|fp32|bf16 resolved against the machine (auto: CUDA with bf16 autocast when available, else CPU fp32), plus
// the CPU thread count. Parameters and optimizer state stay fp32 (master weights) in every plan.
#pragma once

#include <torch/torch.h>

#include <string>

namespace grove::orch {

struct DevicePlan {
  torch::Device device = torch::kCPU;
  bool bf16_autocast = false;
  int threads = 0;

  std::string describe() const;  // "cuda:0, bf16 autocast" / "cpu (2 threads), fp32"
};

// Throws ConfigError when cuda is requested but not available, or bf16 is requested on CPU with LibTorch 1.13.
DevicePlan resolve_device_plan(const std::string& device, const std::string& precision, int64_t threads);

// Applies the plan process-wide (LibTorch intra-op threads); idempotent.
void apply_device_plan(const DevicePlan& plan);

}  // namespace grove::orch
