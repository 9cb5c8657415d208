// AdamW over exactly the trainable parameters (decoupled weight decay, bias correction, as torch.optim.AdamW).
// State is keyed by parameter name, so a checkpoint stores it as named tensors, frozen parameters never get state,
// and optimizer memory is proportional to the trainable parameters. On CUDA the update runs as Grove's own kernel,
// one launch over every parameter (model/fused_adamw.h); with the fused kernels switched off, as ATen's fused
// multi-tensor kernel (LibTorch 2.x); elsewhere as a per-tensor loop with the same arithmetic.
// A gradient may be bf16 on an fp32 parameter (the expert weights' under model::ExpertGradients::kGemmDtype, which
// orch::training_loss asks for): Grove's kernel widens it exactly as it reads it, the other paths widen a copy, and
// the clipping norm is accumulated in fp32 at least; the update is the one its fp32 copy would give.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace grove::orch {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.01;  // applied to matrices (dim >= 2); norms and biases are not decayed
  // On CUDA: Grove's one-launch kernel (model/fused_adamw.h) when true, ATen's _fused_adamw_ when false (what the
  // benchmark compares it with). Same arithmetic either way.
  bool grove_kernel = true;
};

class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> named_parameters, AdamWOptions options);

  // One update with learning rate `lr`. Parameters whose gradient is undefined are skipped (their step count too).
  void step(double lr);
  // Gradient clipping to `max_norm` (as clip_gradient_norm) then step(lr); returns the norm before clipping as a
  // device scalar. On the fused path the clipping factor is applied inside the AdamW kernel (no separate pass over
  // the gradients); elsewhere it is exactly clip_gradient_norm followed by step. What .grad holds afterwards differs:
  // clipped on the loop path and with ATen's kernel, as computed with Grove's kernel. Nothing reads it after a step.
  torch::Tensor clip_and_step(double lr, double max_norm);
  void zero_grad();

  // "optim.<name>.exp_avg", "optim.<name>.exp_avg_sq", "optim.<name>.step" for every parameter.
  std::map<std::string, torch::Tensor> state_tensors() const;
  // Restores state saved by state_tensors(); CheckpointError naming the first missing or mis-shaped tensor.
  void load_state_tensors(const std::map<std::string, torch::Tensor>& tensors, const std::string& source);

  int64_t state_bytes() const;
  size_t size() const { return entries_.size(); }
  bool fused() const { return fused_; }

 private:
  struct Entry {
    std::string name;
    torch::Tensor param;
    torch::Tensor exp_avg;
    torch::Tensor exp_avg_sq;
    torch::Tensor step;  // float32 [1] on the parameter's device (the fused kernel's format)
    int64_t host_step = 0;
    bool decay = true;
  };
  void step_loop(double lr);
  void step_fused(double lr, const torch::Tensor& grad_divisor);

  std::vector<Entry> entries_;
  AdamWOptions options_;
  bool fused_ = false;
};

// Scales the gradients of `parameters` so their global L2 norm is at most `max_norm` (no-op when max_norm <= 0)
// and returns the norm before clipping as a device scalar (no host synchronisation). A gradient in another dtype
// than its parameter's is widened to it (replaced) before it is scaled.
torch::Tensor clip_gradient_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace grove::orch
