#include "orchestrator/kd_loss.h"

namespace grove::orch {

torch::Tensor distillation_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                                double temperature, const torch::Tensor& mask) {
  TORCH_CHECK(student_logits.sizes() == teacher_logits.sizes(), "distillation_loss: student and teacher shapes differ");
  const auto student_log_probs = torch::log_softmax(student_logits.to(torch::kFloat) / temperature, -1);
  const auto teacher_log_probs = torch::log_softmax(teacher_logits.to(torch::kFloat).detach() / temperature, -1);
  // KL(p_t || p_s) per position = sum_v p_t (log p_t - log p_s)
  auto per_position = (teacher_log_probs.exp() * (teacher_log_probs - student_log_probs)).sum(-1);
  const double scale = temperature * temperature;
  if (!mask.defined()) return per_position.mean() * scale;
  const auto weights = mask.to(per_position.dtype());
  return (per_position * weights).sum() / weights.sum().clamp_min(1.0) * scale;
}

}  // namespace grove::orch
