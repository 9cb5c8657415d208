// One expert group of an MoE layer: the experts that one phase added, as stacked SwiGLU weights
// w1, w3 [E_g, f, d] and w2 [E_g, d, f], plus their router rows gate_weight [E_g, d] (and gate_bias [E_g]).
// A group is frozen or trainable as a whole: separate tensors are what let frozen experts cost no weight gradients
// and no optimizer state. Header-only: a parameter holder with no logic of its own.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace grove::model {

class ExpertGroupImpl : public torch::nn::Module {
 public:
  // Allocates uninitialised parameters (the model initialises them from its seed, or a checkpoint fills them).
  ExpertGroupImpl(int64_t n_experts, int64_t d_model, int64_t d_expert, bool router_bias,
                  const torch::TensorOptions& options = {}) {
    TORCH_CHECK(n_experts > 0 && d_model > 0 && d_expert > 0, "ExpertGroup: sizes must be positive");
    w1_ = register_parameter("w1", torch::empty({n_experts, d_expert, d_model}, options));
    w3_ = register_parameter("w3", torch::empty({n_experts, d_expert, d_model}, options));
    w2_ = register_parameter("w2", torch::empty({n_experts, d_model, d_expert}, options));
    gate_weight_ = register_parameter("gate_weight", torch::empty({n_experts, d_model}, options));
    if (router_bias) gate_bias_ = register_parameter("gate_bias", torch::zeros({n_experts}, options));
  }

  int64_t n_experts() const { return w1_.size(0); }
  int64_t d_model() const { return w1_.size(2); }
  int64_t d_expert() const { return w1_.size(1); }
  bool has_gate_bias() const { return gate_bias_.defined(); }

  const torch::Tensor& w1() const { return w1_; }
  const torch::Tensor& w3() const { return w3_; }
  const torch::Tensor& w2() const { return w2_; }
  const torch::Tensor& gate_weight() const { return gate_weight_; }
  const torch::Tensor& gate_bias() const { return gate_bias_; }  // undefined without router_bias

  void set_experts_trainable(bool trainable) {
    w1_.set_requires_grad(trainable);
    w3_.set_requires_grad(trainable);
    w2_.set_requires_grad(trainable);
  }
  void set_gate_trainable(bool trainable) {
    gate_weight_.set_requires_grad(trainable);
    if (gate_bias_.defined()) gate_bias_.set_requires_grad(trainable);
  }
  bool experts_trainable() const { return w1_.requires_grad(); }
  bool gate_trainable() const { return gate_weight_.requires_grad(); }

  // Parameters of one expert (w1, w3 and w2 rows): 3 * d * f.
  int64_t parameters_per_expert() const { return 3 * d_model() * d_expert(); }

 private:
  torch::Tensor w1_, w3_, w2_, gate_weight_, gate_bias_;
};
TORCH_MODULE(ExpertGroup);

}  // namespace grove::model
