// Per-row cross-entropy of bf16 logits in two CUDA kernels (cross_entropy_kernels.cu), differentiable. The ATen
// formulation (orchestrator/training_loss.cpp: logits to fp32, log_softmax, nll_loss) writes and reads several fp32
// copies of the [tokens, vocab] logits, forward and backward; this reads the bf16 logits once each way and keeps
// only one fp32 normaliser per row. Builds without CUDA compile fused_kernels_none.cpp.
#pragma once

#include <torch/torch.h>

#include "model/fused_switch.h"

namespace grove::model::fused {

// Whether cross_entropy() may run on logits [rows, vocab]: the switch on, CUDA bf16, dense, vocab a multiple of 8.
bool cross_entropy_available(const torch::Tensor& logits);

// nll [rows] fp32: logsumexp(logits_r) - logits_r,target_r; 0 where the target is -100 (ignore_index), NaN for any
// other target outside the vocabulary. Carries the logits' gradient.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace grove::model::fused
