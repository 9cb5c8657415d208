#include "orchestrator/evaluator.h"

#include <cmath>

#include "data_streams/batch_iterator.h"
#include "data_streams/holdout_windows.h"
#include "data_streams/window_sampler.h"
#include "model/torch_compat.h"

namespace grove::orch {

EvalResult evaluate_holdout(model::MoeTransformer& model, const std::shared_ptr<const data::ShardReader>& holdout,
                            const EvalSettings& settings, const DevicePlan& plan) {
  EvalModeScope mode(model);
  torch::NoGradGuard no_grad;
  const data::HoldoutWindows windows(holdout, settings.seq_len + 1, static_cast<uint64_t>(settings.max_tokens));
  data::BatchIterator batches(windows.source(settings.batch_size), 0, /*queue_depth=*/2);

  const auto device = plan.device;
  auto nll_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
  auto target_count = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device));
  torch::Tensor routing;
  while (auto batch = batches.next()) {
    const auto inputs = batch->inputs.to(device, /*non_blocking=*/true);
    const auto targets = batch->targets.to(device, /*non_blocking=*/true);
    const auto mask = batch->mask.to(device, /*non_blocking=*/true);
    model::ForwardOutput out;
    {
      compat::AutocastGuard autocast(device.type(), torch::kBFloat16, plan.bf16_autocast);
      model::ForwardOptions options;
      options.collect_routing = true;
      out = model.forward(inputs, options);
    }
    const auto logits = out.logits.to(torch::kFloat).reshape({-1, out.logits.size(-1)});
    const auto nll = torch::nn::functional::cross_entropy(
        logits, targets.reshape({-1}), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    const auto flat_mask = mask.reshape({-1});
    nll_sum += (nll.to(torch::kDouble) * flat_mask.to(torch::kDouble)).sum();
    target_count += flat_mask.to(torch::kLong).sum();
    routing = routing.defined() ? routing + out.routing_counts : out.routing_counts.clone();
  }

  EvalResult result;
  result.targets = target_count.item<int64_t>();
  result.bytes = static_cast<int64_t>(windows.bytes());
  result.docs = static_cast<int64_t>(windows.docs());
  const double nll_total = nll_sum.item<double>();
  result.loss = result.targets > 0 ? nll_total / static_cast<double>(result.targets) : 0.0;
  result.ppl = std::exp(result.loss);
  result.bpb = result.bytes > 0 ? nll_total / std::log(2.0) / static_cast<double>(result.bytes) : 0.0;
  result.routing_counts = routing.defined() ? routing.to(torch::kCPU) : torch::Tensor();
  return result;
}

torch::Tensor routing_prepass(model::MoeTransformer& model, const std::shared_ptr<const data::ShardReader>& train,
                              int64_t seq_len, int64_t batch_size, int64_t tokens, uint64_t seed,
                              const DevicePlan& plan) {
  EvalModeScope mode(model);
  torch::NoGradGuard no_grad;
  const int64_t width = std::min<int64_t>(seq_len + 1, static_cast<int64_t>(train->tokens()));
  const data::WindowSampler sampler(train, width, seed);
  const int64_t batches = std::max<int64_t>(1, (tokens + batch_size * seq_len - 1) / (batch_size * seq_len));
  torch::Tensor routing;
  for (int64_t i = 0; i < batches; ++i) {
    const auto batch = data::to_tensors(sampler.batch(static_cast<uint64_t>(i), batch_size), static_cast<uint64_t>(i),
                                        /*pinned=*/false);
    compat::AutocastGuard autocast(plan.device.type(), torch::kBFloat16, plan.bf16_autocast);
    model::ForwardOptions options;
    options.collect_routing = true;
    const auto out = model.forward(batch.inputs.to(plan.device), options);
    routing = routing.defined() ? routing + out.routing_counts : out.routing_counts.clone();
  }
  return routing.to(torch::kCPU);
}

}  // namespace grove::orch
