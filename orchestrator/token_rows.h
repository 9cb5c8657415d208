// The `new_tokens` shared policy's bookkeeping: which rows of the embedding and the LM head belong to earlier
// distributions (their tokens occur in an earlier distribution's training data, by its sketch's counts) and stay
// exactly as they are, and which rows, of tokens no earlier distribution used, this phase trains. The model trains
// the whole tensors (model::SharedPolicy::kNewTokenRows); the trainer zeroes the kept rows' gradients before each
// optimizer step and writes their values back after it (decoupled weight decay would move them otherwise).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/moe_transformer.h"
#include "orchestrator/distribution_sketch.h"

namespace grove::orch {

// A token belongs to an earlier distribution when its share of that distribution's training tokens is at least
// this (1 in 100,000): rarer stray uses (a Cyrillic word in English text) do not claim a row for it.
inline constexpr double kUsedShare = 1e-5;

// [V] bool: the tokens that belong to any of `earlier` (by their sketches' counts).
torch::Tensor earlier_tokens(const std::vector<DistributionSketch>& earlier, int64_t vocab_size);

class TokenRowMask {
 public:
  // `with_head`: the LM head's rows too (the `new_tokens` policy); without, the embedding's alone (the `orthogonal`
  // policy, whose LM-head updates orchestrator/orthogonal_updates.h constrains instead).
  TokenRowMask(model::MoeTransformer& model, const std::vector<DistributionSketch>& earlier, bool with_head = true);
  // Keeps the rows where `keep` ([V] bool) is true, e.g. every row but those vocabulary growth appended.
  TokenRowMask(model::MoeTransformer& model, const torch::Tensor& keep, bool with_head);

  void mask_gradients();  // before the optimizer step (and before clipping, so the norm is the masked one)
  void restore_rows();    // after the optimizer step

  int64_t trainable_rows() const { return trainable_rows_; }
  int64_t vocabulary() const { return vocabulary_; }

 private:
  std::vector<torch::Tensor> parameters_;  // the embedding, and the LM head when untied
  std::vector<torch::Tensor> kept_values_;
  torch::Tensor keep_index_;  // [K] int64 ids of earlier distributions' tokens
  torch::Tensor train_mask_;  // [V, 1] float: 1 where the row trains
  int64_t trainable_rows_ = 0;
  int64_t vocabulary_ = 0;
};

}  // namespace grove::orch
