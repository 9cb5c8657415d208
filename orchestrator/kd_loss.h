// Output-level knowledge distillation against the previous phase's model (Lifelong-MoE's regulariser):
// T² · KL(softmax(teacher/T) ‖ softmax(student/T)), averaged over the unmasked token positions.
#pragma once

#include <torch/torch.h>

namespace grove::orch {

// student, teacher: [N, V] logits (teacher without grad); mask: [N] bool/float of positions that count, or undefined
// for all. Returns a scalar; zero when no position counts.
torch::Tensor distillation_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                                double temperature, const torch::Tensor& mask = {});

}  // namespace grove::orch
