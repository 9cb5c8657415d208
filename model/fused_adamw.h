// Grove's AdamW update in one CUDA kernel launch over all trainable parameters (model/adamw_kernels.h), for
// orch::AdamW on CUDA: the same arithmetic as torch.optim.AdamW and ATen's _fused_adamw_, at the memory-traffic
// floor of 28 bytes per parameter. Builds without CUDA (fused_kernels_none.cpp) report it unavailable, and the
// optimizer keeps ATen's kernel or its own loop. The fused-kernel switch (fused_switch.h) covers it too.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/fused_switch.h"

namespace grove::model::fused {

// One parameter's update: its fp32 tensors (the gradient fp32 or bf16: a bf16 gradient is widened exactly as it is
// read, so it updates as its fp32 copy would), whether it is decayed, and its step count t after this update (the
// host's count; the update also writes it into `step`, the parameter's device step count, fp32 [1]).
struct AdamwParameter {
  torch::Tensor param, grad, exp_avg, exp_avg_sq, step;
  int64_t step_count = 0;
  bool decay = true;
};

struct AdamwHyper {
  double lr, beta1, beta2, eps, weight_decay;
};

// A CUDA build, the switch on, and every tensor fp32 (a gradient fp32 or bf16), contiguous, on one CUDA device, with
// param, grad and the two moments of equal size (and every step an fp32 scalar there).
bool adamw_available(const std::vector<AdamwParameter>& parameters);

// Updates every parameter in one launch on the current stream. grad_divisor: an fp32 device scalar by which every
// gradient is divided first (the clipping factor), or undefined. No host synchronisation.
void adamw_update(const std::vector<AdamwParameter>& parameters, const AdamwHyper& hyper,
                  const torch::Tensor& grad_divisor);

}  // namespace grove::model::fused
