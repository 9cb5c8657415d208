// One expert group of an MoE layer: the experts that one phase added, as stacked SwiGLU weights
// w1, w3 [E_g, f, d] and w2 [E_g, d, f], plus their router rows gate_weight [E_g, d] (and gate_bias [E_g]).
// A group is frozen or trainable as a whole: separate tensors are what let frozen experts cost no weight gradients
// and no optimizer state.
//
// Where w1 and w3 live: in bf16 (the expert GEMMs' compute dtype) they are the two halves of one [E_g, 2f, d] buffer,
// each expert's w1 rows then its w3 rows, so the grouped forward multiplies by that buffer as it is instead of
// stacking a copy of both every step (model/expert_dispatch.cpp). In other dtypes they are two dense tensors: fp32
// masters are cast into a bf16 stack every forward anyway, and the fused AdamW reads dense parameters. Module::to
// gives every parameter its own storage, so the group puts w1 and w3 back in place after each move or cast.
// Header-only: a parameter holder with no logic beyond that placement.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace grove::model {

// w1 and w3 as one [E, 2f, d] tensor when they are the two halves of one dense buffer in that order (as a bf16
// group keeps them); undefined otherwise. A view of their storage without autograd history: it writes through.
inline torch::Tensor w13_buffer(const torch::Tensor& w1, const torch::Tensor& w3) {
  if (!w1.defined() || !w3.defined() || w1.dim() != 3 || w1.sizes() != w3.sizes() ||
      w1.scalar_type() != w3.scalar_type() || w1.device() != w3.device() || !w1.has_storage() ||
      !w3.has_storage() || !w1.storage().is_alias_of(w3.storage())) {
    return {};
  }
  const int64_t n = w1.size(0), f = w1.size(1), d = w1.size(2);
  const std::vector<int64_t> strides{2 * f * d, d, 1};
  if (w1.strides() != torch::IntArrayRef(strides) || w3.strides() != torch::IntArrayRef(strides) ||
      w3.storage_offset() != w1.storage_offset() + f * d) {
    return {};
  }
  return w1.detach().as_strided({n, 2 * f, d}, strides, w1.storage_offset());
}

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
    place_w1_w3();
  }

  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override {
    torch::nn::Module::to(device, dtype, non_blocking);
    place_w1_w3();
  }
  void to(torch::Dtype dtype, bool non_blocking = false) override {
    torch::nn::Module::to(dtype, non_blocking);
    place_w1_w3();
  }
  void to(torch::Device device, bool non_blocking = false) override {
    torch::nn::Module::to(device, non_blocking);
    place_w1_w3();
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
  // bf16: w1 and w3 become the halves of one buffer (their values kept); otherwise each its own dense tensor. The
  // parameters stay the same tensors (set_data), so a holder of them, or an optimizer, sees the new placement.
  void place_w1_w3() {
    const bool together = w1_.scalar_type() == torch::kBFloat16;
    if (together == w13_buffer(w1_, w3_).defined() && (together || (w1_.is_contiguous() && w3_.is_contiguous()))) {
      return;
    }
    const torch::NoGradGuard no_grad;
    if (together) {
      const int64_t f = d_expert();
      const torch::Tensor both = torch::cat({w1_, w3_}, 1);
      w1_.set_data(both.narrow(1, 0, f));
      w3_.set_data(both.narrow(1, f, f));
    } else {
      w1_.set_data(w1_.contiguous());
      w3_.set_data(w3_.contiguous());
    }
  }

  torch::Tensor w1_, w3_, w2_, gate_weight_, gate_bias_;
};
TORCH_MODULE(ExpertGroup);

}  // namespace grove::model
