// The loss one training step minimises, shared by the trainer and the step benchmark (bench/train_step_bench) so
// that what is timed is what trains: masked next-token cross-entropy (in fp32) + the router's auxiliary losses +
// optionally distillation against a frozen teacher (on the new data, on generated rehearsal rows, or both), all under bf16 autocast when the plan says so.
#pragma once

#include <torch/torch.h>

#include "model/moe_transformer.h"
#include "model/torch_compat.h"

namespace grove::orch {

class RoutingIsolation;

struct TrainingLossOptions {
  bool bf16_autocast = false;
  double kd_weight = 0.0;  // distillation runs only with a teacher and a positive weight
  double kd_temperature = 2.0;
  compat::Optional<at::Generator> noise_generator;  // router noise (training mode)
  // The expert weights' bf16 gradients as they are, without widening them to their fp32 masters: orch::AdamW reads
  // them so (model/expert_dispatch.h). kParameterDtype is for any other consumer of the gradients.
  model::ExpertGradients expert_gradients = model::ExpertGradients::kGemmDtype;
  // The routing-isolation loss (orchestrator/routing_isolation.h) with this weight; off when null or weight 0.
  const RoutingIsolation* isolation = nullptr;
  double isolation_weight = 0.0;
  // Generated rehearsal (orchestrator/generated_rehearsal.h): the batch's last `rehearsal_rows` rows were written by
  // the teacher; the model is distilled towards it there (KL at temperature 1, weight `rehearsal_weight`, every
  // position) and the routing-isolation attraction skips them. Their targets are masked out of the LM loss by the
  // batch itself. Needs a teacher.
  int64_t rehearsal_rows = 0;
  double rehearsal_weight = 1.0;
};

struct TrainingLoss {
  // fp32 scalars; kd is zero without distillation (it holds both distillation terms, weighted, when both run). aux holds the router's auxiliary losses and the weighted
  // routing-isolation term; isolation holds that term unweighted (zero when off).
  torch::Tensor total, lm, aux, kd, isolation;
};

// inputs, targets: [B, T] int64 on the model's device; mask: [B, T] (bool or float) of the positions that count.
// Builds the graph; the caller calls total.backward(), which by default may leave bf16 gradients on fp32 expert
// weights (TrainingLossOptions::expert_gradients): step with orch::AdamW, which reads them.
TrainingLoss training_loss(model::MoeTransformer& model, model::MoeTransformer* teacher, const torch::Tensor& inputs,
                           const torch::Tensor& targets, const torch::Tensor& mask, const TrainingLossOptions& options);

}  // namespace grove::orch
