#include "orchestrator/training_loss.h"

#include "model/fused_cross_entropy.h"
#include "orchestrator/kd_loss.h"
#include "orchestrator/routing_isolation.h"

namespace grove::orch {

TrainingLoss training_loss(model::MoeTransformer& model, model::MoeTransformer* teacher, const torch::Tensor& inputs,
                           const torch::Tensor& targets, const torch::Tensor& mask, const TrainingLossOptions& options) {
  compat::AutocastGuard autocast(inputs.device().type(), torch::kBFloat16, options.bf16_autocast);
  model::ForwardOptions forward;
  forward.noise_generator = options.noise_generator;
  forward.expert_gradients = options.expert_gradients;
  const bool isolate = options.isolation != nullptr && options.isolation_weight > 0;
  std::vector<torch::Tensor> router_inputs;
  if (isolate) forward.router_inputs = &router_inputs;
  const auto out = model.forward(inputs, forward);
  const auto vocab = out.logits.size(-1);
  const auto logits = out.logits.reshape({-1, vocab});
  // bf16 logits on CUDA: one kernel each way on the bf16 logits (model/fused_cross_entropy.h); otherwise fp32.
  const auto nll = model::fused::cross_entropy_available(logits)
                       ? model::fused::cross_entropy(logits, targets.reshape({-1}))
                       : torch::nn::functional::cross_entropy(
                             logits.to(torch::kFloat), targets.reshape({-1}),
                             torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  const auto weights = mask.reshape({-1}).to(torch::kFloat);
  TrainingLoss loss;
  loss.lm = (nll * weights).sum() / weights.sum().clamp_min(1.0);
  loss.aux = out.aux_loss.to(torch::kFloat);
  if (isolate) {
    loss.isolation = options.isolation->loss(model, router_inputs);
    loss.aux = loss.aux + options.isolation_weight * loss.isolation;
  } else {
    loss.isolation = torch::zeros({}, loss.lm.options());
  }
  loss.total = loss.lm + loss.aux;
  if (teacher != nullptr && options.kd_weight > 0) {
    torch::Tensor teacher_logits;
    {
      torch::NoGradGuard no_grad;
      teacher_logits = teacher->forward(inputs).logits.reshape({-1, vocab});
    }
    loss.kd = distillation_loss(logits, teacher_logits, options.kd_temperature, weights);
    loss.total = loss.total + options.kd_weight * loss.kd;
  } else {
    loss.kd = torch::zeros({}, loss.lm.options());
  }
  return loss;
}

}  // namespace grove::orch
