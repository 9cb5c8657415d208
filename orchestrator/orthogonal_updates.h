// The `orthogonal` shared policy: shared weights train, but every update of a linear map is projected off the input
// directions that earlier distributions use, so those distributions' outputs stay as they were without their data.
// For a map y = W x, an update dW changes y by dW x; removing from dW its part on the principal subspace U of the
// earlier inputs' second moment (dW <- dW - dW U U^T) leaves y unchanged wherever x lies in that subspace (Gradient
// Projection Memory, Saha et al., ICLR 2021, applied to the update after AdamW, whose per-element scaling would
// undo a projection of the gradient). The subspace of each map holds `kEnergy` of the earlier inputs' energy,
// each earlier distribution weighted equally; what remains free are directions they hardly use, where new experts
// can write and the maps after them can learn to read.
// Covered: each layer's q, k and v projections (input: the attention block's normed input) and the LM head
// (input: the final normed hidden state). The LM-head rows of tokens no earlier distribution used train freely,
// and the embedding rows of earlier tokens stay as they are (orchestrator/token_rows.h runs beside this).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/moe_transformer.h"
#include "orchestrator/distribution_sketch.h"

namespace grove::orch {

class OrthogonalUpdates {
 public:
  static constexpr double kEnergy = 0.99;

  OrthogonalUpdates(model::MoeTransformer& model, const std::vector<DistributionSketch>& earlier);

  void before_step();  // remembers the values the update starts from
  void after_step();   // projects each update

  // Free input directions of the LM head and of each layer's attention, out of d_model: for logs and tests.
  int64_t head_free_directions() const;
  std::vector<int64_t> attention_free_directions() const;

 private:
  struct Constrained {
    torch::Tensor parameter;  // [out, d]
    torch::Tensor basis;      // [d, r]: the earlier inputs' principal directions
    torch::Tensor free_rows;  // [out, 1] float: 1 for rows whose update is not projected (new tokens' LM-head rows)
    torch::Tensor start;      // the values before the step
  };
  std::vector<Constrained> constrained_;
  std::vector<int64_t> attention_free_;
  int64_t d_model_ = 0;
  int64_t head_index_ = -1;
};

// The principal subspace [d, r] holding `energy` of the summed, trace-normalised second moments (exposed for tests).
torch::Tensor principal_basis(const std::vector<torch::Tensor>& moments, double energy);

}  // namespace grove::orch
