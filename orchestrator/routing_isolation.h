// Routing isolation without old data: the loss that keeps the experts a phase trains (its group: the new one of a
// phase that grew, or the one a phase without growth chose) out of the other distributions' routing and gives them
// the new distribution's tokens. Without replay nothing else tells the trained gate rows where they do not belong,
// and they win top-k places on old tokens (the forgetting of a frozen-expert model is routing). Below, "new" is the
// trained group's experts and "old" every other group's.
//   guard:     for router inputs drawn from each earlier distribution's sketch (orchestrator/distribution_sketch.h),
//              hinge(max new logit - k-th best old logit + margin): new experts stay out of the old tokens' top-k;
//   attraction: for the batch's own router inputs (no gradient into them), hinge(max old logit - max new logit +
//              margin): a new expert is each new token's first choice, so the new experts carry the new data.
// Both are means over tokens and layers; gradients reach the gate rows only (the old rows are frozen under the
// `new_rows` gate policy, so in practice the trained group's rows alone move).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/moe_transformer.h"
#include "orchestrator/distribution_sketch.h"

namespace grove::orch {

class RoutingIsolation {
 public:
  static constexpr double kMargin = 1.0;                    // in router-logit units
  static constexpr int64_t kSamplesPerDistribution = 1024;  // synthetic router inputs per layer and distribution

  // `new_group`: the group this phase trains (any group of a model of two or more); `earlier`: one sketch per
  // earlier distribution to keep it from (at least one).
  RoutingIsolation(const model::MoeTransformer& model, size_t new_group, const std::vector<DistributionSketch>& earlier,
                   uint64_t seed);

  size_t group() const { return new_group_; }

  // The loss for one step: `router_inputs` are the batch's, one [N, d] per layer (ForwardOptions::router_inputs).
  torch::Tensor loss(const model::MoeTransformer& model, const std::vector<torch::Tensor>& router_inputs) const;

  // The guard term alone on the synthetic inputs, and the share of them whose top-k holds a new expert (what the
  // guard drives to zero): for logs and tests.
  torch::Tensor guard(const model::MoeTransformer& model) const;
  double leaked_share(const model::MoeTransformer& model) const;

 private:
  size_t new_group_;
  int64_t top_k_;
  // Per sample of `layer`: best new logit - k-th best old logit (> 0: a new expert is in its top-k).
  torch::Tensor guard_gaps(const model::MoeTransformer& model, int64_t layer) const;

  std::vector<torch::Tensor> synthetic_;  // per layer [M, d] float32 on the model's device
  std::vector<torch::Tensor> kth_old_;    // per layer [M], when the old gate rows are frozen (else undefined)
};

}  // namespace grove::orch
