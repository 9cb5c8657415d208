// One switch for Grove's fused CUDA kernels (fused_experts.h, fused_rotary.h, fused_cross_entropy.h): on by default,
// off when GROVE_FUSED_KERNELS=0 is in the environment at start-up. Off, every caller takes its ATen formulation:
// for measuring what the kernels buy (train_step_bench's e16-aten case) and for checking them against it in tests.
#pragma once

namespace grove::model::fused {

void set_enabled(bool enabled);
bool enabled();

}  // namespace grove::model::fused
