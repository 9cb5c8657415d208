#include "orchestrator/adamw.h"

#include <fmt/format.h>

#include <cmath>

#include "common/errors.h"
#include "model/fused_adamw.h"
#include "model/torch_compat.h"

namespace grove::orch {
namespace {

// The gradient in its parameter's dtype. The expert GEMMs may leave bf16 gradients on fp32 parameters
// (model::ExpertGradients::kGemmDtype); Grove's kernel reads them as they are, the other paths widen a copy.
torch::Tensor in_parameter_dtype(const torch::Tensor& grad, const torch::Tensor& param) {
  return grad.scalar_type() == param.scalar_type() ? grad : grad.to(param.scalar_type());
}

}  // namespace

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> named_parameters, AdamWOptions options)
    : options_(options) {
  bool all_cuda = !named_parameters.empty();
  for (auto& [name, param] : named_parameters) {
    Entry entry;
    entry.name = name;
    entry.param = param;
    entry.exp_avg = torch::zeros_like(param, torch::MemoryFormat::Preserve);
    entry.exp_avg_sq = torch::zeros_like(param, torch::MemoryFormat::Preserve);
    entry.step = torch::zeros({1}, param.options().dtype(torch::kFloat));
    entry.decay = param.dim() >= 2;
    all_cuda = all_cuda && param.is_cuda() && param.scalar_type() == torch::kFloat;
    entries_.push_back(std::move(entry));
  }
  fused_ = all_cuda && compat::has_fused_adamw(entries_.front().param.device());
}

void AdamW::zero_grad() {
  for (auto& entry : entries_) {
    auto& grad = entry.param.mutable_grad();
    if (grad.defined()) grad = torch::Tensor();
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  if (fused_) {
    step_fused(lr, torch::Tensor());
  } else {
    step_loop(lr);
  }
}

torch::Tensor AdamW::clip_and_step(double lr, double max_norm) {
  std::vector<torch::Tensor> params;
  params.reserve(entries_.size());
  for (const auto& entry : entries_) params.push_back(entry.param);
  if (!fused_) {
    torch::Tensor norm = clip_gradient_norm(params, max_norm);
    step(lr);
    return norm;
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return torch::zeros({}, torch::kFloat);
  const torch::Tensor total = compat::tensor_norms(grads).norm();
  // clip_gradient_norm multiplies by min(1, max_norm / (norm + 1e-6)); the kernel divides by the reciprocal.
  torch::Tensor divisor;
  if (max_norm > 0) divisor = ((total + 1e-6) / max_norm).clamp_min(1.0).reshape({1});
  step_fused(lr, divisor);
  return total;
}

void AdamW::step_loop(double lr) {
  for (auto& entry : entries_) {
    if (!entry.param.grad().defined()) continue;
    const torch::Tensor grad = in_parameter_dtype(entry.param.grad(), entry.param);
    entry.host_step += 1;
    entry.step.fill_(static_cast<double>(entry.host_step));
    const double t = static_cast<double>(entry.host_step);
    const double bias1 = 1.0 - std::pow(options_.beta1, t);
    const double bias2 = 1.0 - std::pow(options_.beta2, t);
    entry.exp_avg.mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    entry.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    if (entry.decay && options_.weight_decay > 0) entry.param.mul_(1.0 - lr * options_.weight_decay);
    const auto denom = (entry.exp_avg_sq.sqrt() / std::sqrt(bias2)).add_(options_.eps);
    entry.param.addcdiv_(entry.exp_avg, denom, -lr / bias1);
  }
}

void AdamW::step_fused(double lr, const torch::Tensor& grad_divisor) {
  // Grove's kernel: every parameter in one launch (model/fused_adamw.h).
  std::vector<model::fused::AdamwParameter> parameters;
  for (auto& entry : entries_) {
    if (!entry.param.grad().defined()) continue;
    parameters.push_back({entry.param, entry.param.grad(), entry.exp_avg, entry.exp_avg_sq, entry.step,
                          entry.host_step + 1, entry.decay});
  }
  if (parameters.empty()) return;
  if (options_.grove_kernel && model::fused::adamw_available(parameters)) {
    model::fused::adamw_update(parameters,
                               {lr, options_.beta1, options_.beta2, options_.eps, options_.weight_decay},
                               grad_divisor);
    for (auto& entry : entries_) {
      if (entry.param.grad().defined()) entry.host_step += 1;
    }
    return;
  }
  // ATen's multi-tensor kernel: one launch series per weight-decay setting.
  for (const bool decay : {true, false}) {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (auto& entry : entries_) {
      if (entry.decay != decay || !entry.param.grad().defined()) continue;
      entry.host_step += 1;
      params.push_back(entry.param);
      grads.push_back(in_parameter_dtype(entry.param.grad(), entry.param));
      exp_avgs.push_back(entry.exp_avg);
      exp_avg_sqs.push_back(entry.exp_avg_sq);
      steps.push_back(entry.step);
    }
    if (params.empty()) continue;
    compat::fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, steps,
                         {lr, options_.beta1, options_.beta2, decay ? options_.weight_decay : 0.0, options_.eps},
                         grad_divisor);
  }
}

std::map<std::string, torch::Tensor> AdamW::state_tensors() const {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& entry : entries_) {
    tensors["optim." + entry.name + ".exp_avg"] = entry.exp_avg;
    tensors["optim." + entry.name + ".exp_avg_sq"] = entry.exp_avg_sq;
    tensors["optim." + entry.name + ".step"] = entry.step;
  }
  return tensors;
}

void AdamW::load_state_tensors(const std::map<std::string, torch::Tensor>& tensors, const std::string& source) {
  torch::NoGradGuard no_grad;
  auto fetch = [&](const std::string& key, const torch::Tensor& like) -> const torch::Tensor& {
    const auto found = tensors.find(key);
    if (found == tensors.end()) {
      throw CheckpointError(fmt::format("{}: optimizer state '{}' is missing", source, key));
    }
    if (found->second.sizes() != like.sizes()) {
      throw CheckpointError(fmt::format("{}: optimizer state '{}' has shape {}, expected {}", source, key,
                                        c10::str(found->second.sizes()), c10::str(like.sizes())));
    }
    return found->second;
  };
  for (auto& entry : entries_) {
    entry.exp_avg.copy_(fetch("optim." + entry.name + ".exp_avg", entry.exp_avg));
    entry.exp_avg_sq.copy_(fetch("optim." + entry.name + ".exp_avg_sq", entry.exp_avg_sq));
    entry.step.copy_(fetch("optim." + entry.name + ".step", entry.step));
    entry.host_step = static_cast<int64_t>(std::llround(entry.step.to(torch::kCPU).item<float>()));
  }
}

int64_t AdamW::state_bytes() const {
  int64_t bytes = 0;
  for (const auto& entry : entries_) {
    bytes += entry.exp_avg.numel() * entry.exp_avg.element_size();
    bytes += entry.exp_avg_sq.numel() * entry.exp_avg_sq.element_size();
    bytes += entry.step.numel() * entry.step.element_size();
  }
  return bytes;
}

torch::Tensor clip_gradient_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : parameters) {
    // In double: an fp32 sum of tens of millions of squares drifts by a tenth of a percent (training_math_test).
    if (p.grad().defined()) norms.push_back(p.grad().detach().norm(2, torch::kDouble));
  }
  if (norms.empty()) return torch::zeros({}, torch::kFloat);
  const auto total = torch::stack(norms).norm().to(torch::kFloat);
  if (max_norm > 0) {
    const auto scale = (max_norm / (total + 1e-6)).clamp_max(1.0);
    for (const auto& p : parameters) {
      if (!p.grad().defined()) continue;
      // Scaled in the parameter's dtype: a bf16 gradient of an fp32 parameter is widened first, not rounded again.
      if (p.grad().scalar_type() != p.scalar_type()) p.mutable_grad() = p.grad().to(p.scalar_type());
      p.grad().mul_(scale.to(p.grad().scalar_type()));
    }
  }
  return total;
}

}  // namespace grove::orch
