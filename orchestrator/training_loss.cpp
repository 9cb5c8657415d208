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
  const int64_t rehearsal = teacher != nullptr ? options.rehearsal_rows : 0;
  const int64_t own_rows = inputs.size(0) - rehearsal;
  if (own_rows < 1) throw std::invalid_argument("training_loss: every row of the batch is a rehearsal row");
  if (isolate) {
    if (rehearsal > 0) {  // the attraction is for the new data's tokens only
      for (auto& layer_inputs : router_inputs) layer_inputs = layer_inputs.slice(0, 0, own_rows * inputs.size(1));
    }
    loss.isolation = options.isolation->loss(model, router_inputs);
    loss.aux = loss.aux + options.isolation_weight * loss.isolation;
  } else {
    loss.isolation = torch::zeros({}, loss.lm.options());
  }
  loss.total = loss.lm + loss.aux;
  loss.kd = torch::zeros({}, loss.lm.options());
  const bool on_new_data = teacher != nullptr && options.kd_weight > 0;
  if (on_new_data || rehearsal > 0) {
    torch::Tensor teacher_logits;
    {
      torch::NoGradGuard no_grad;
      const auto taught = on_new_data ? inputs : inputs.slice(0, own_rows);
      teacher_logits = teacher->forward(taught).logits;
    }
    if (on_new_data) {  // the rehearsal rows' targets are masked out of `weights`
      loss.kd = loss.kd + options.kd_weight * distillation_loss(logits, teacher_logits.reshape({-1, vocab}),
                                                                options.kd_temperature, weights);
    }
    if (rehearsal > 0) {
      const auto student = out.logits.slice(0, own_rows).reshape({-1, vocab});
      const auto taught = (on_new_data ? teacher_logits.slice(0, own_rows) : teacher_logits).reshape({-1, vocab});
      loss.kd = loss.kd + options.rehearsal_weight * distillation_loss(student, taught, /*temperature=*/1.0);
    }
    loss.total = loss.total + loss.kd;
  }
  return loss;
}

}  // namespace grove::orch
