// Holdout evaluation of a model on one distribution: bits per byte (the metric comparable across tokenizers and
// distributions), mean loss per token (nats) and perplexity over the deterministic holdout windows, plus per-layer
// routing counts for the utilisation statistics. Sums stay on the device until the end (one synchronisation).
#pragma once

#include <torch/torch.h>

#include <memory>

#include "data_streams/shard_reader.h"
#include "model/moe_transformer.h"
#include "orchestrator/device_plan.h"

namespace grove::orch {

// Evaluation mode for the scope, the caller's mode back on exit (also when it throws).
class EvalModeScope {
 public:
  explicit EvalModeScope(model::MoeTransformer& model) : model_(model), was_training_(model.is_training()) {
    model_.eval();
  }
  ~EvalModeScope() { model_.train(was_training_); }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  model::MoeTransformer& model_;
  bool was_training_;
};

struct EvalSettings {
  int64_t seq_len = 128;
  int64_t batch_size = 16;
  int64_t max_tokens = 50000;  // the first this many holdout tokens, the last document cut (0: all)
};

struct EvalResult {
  double bpb = 0;
  double loss = 0;     // nats per target token
  double ppl = 0;
  int64_t targets = 0; // predicted tokens counted
  int64_t bytes = 0;   // UTF-8 bytes of the text covered (a cut document's share of its bytes)
  int64_t docs = 0;
  torch::Tensor routing_counts;  // [L, E_total] int64 on CPU: (token, k) assignments per expert
};

EvalResult evaluate_holdout(model::MoeTransformer& model, const std::shared_ptr<const data::ShardReader>& holdout,
                            const EvalSettings& settings, const DevicePlan& plan);

// Routing counts of `tokens` windows drawn from a train shard (the growth pre-pass that picks copy parents).
torch::Tensor routing_prepass(model::MoeTransformer& model, const std::shared_ptr<const data::ShardReader>& train,
                              int64_t seq_len, int64_t batch_size, int64_t tokens, uint64_t seed,
                              const DevicePlan& plan);

}  // namespace grove::orch
