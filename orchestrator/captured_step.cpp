#include "orchestrator/captured_step.h"

#include <fmt/format.h>

#include "model/torch_compat.h"

namespace grove::orch {
namespace {

bool same_layout(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && a.device() == b.device();
}

}  // namespace

std::string CapturedStep::why_not(const model::MoeTransformer& model, const torch::Device& device, bool bf16_autocast) {
  if (!model::CapturedWork::available(device)) {
    return fmt::format("{} cannot capture CUDA graphs (a CUDA device and a LibTorch build with CUDA are needed)",
                       device.str());
  }
  const model::ModelConfig& config = model.config();
  if (config.router_noise_std > 0) {
    return fmt::format("router noise (std {}) draws random numbers the graph would replay unchanged",
                       config.router_noise_std);
  }
  // The conditions under which resolve_expert_backend picks the grouped path (no host synchronisation).
  const auto loop = [](const std::string& why) {
    return fmt::format("{}: the experts run as a per-expert loop, which reads their token counts on the host", why);
  };
  if (!bf16_autocast) return loop("fp32 compute");
  if (!compat::has_native_grouped_mm(device, torch::kBFloat16)) return loop("this LibTorch has no native grouped GEMM");
  if (config.d_model % 8 != 0 || config.d_expert % 8 != 0) {
    return loop(fmt::format("d_model {} or d_expert {} is not a multiple of 8", config.d_model, config.d_expert));
  }
  for (int64_t l = 0; l < config.n_layers; ++l) {
    if (model.layer(l).moe().n_experts() >= 1024) return loop("1024 experts or more in a layer");
  }
  return "";
}

CapturedStep::CapturedStep(Work work, const torch::Tensor& tokens, const torch::Tensor& mask, int warmup)
    : tokens_(tokens.clone()), mask_(mask.clone()) {
  // Values only: detached views of the losses (for the captured run, of the graph's outputs, which each replay
  // rewrites). Each run's autograd graph is released as soon as it returns, so nothing of a warm-up run is still held
  // while the next one runs; the MoE layers' cached weight stacks (model/expert_stack_cache.h) rely on that to be
  // written in place, and captured.
  graph_ = std::make_unique<model::CapturedWork>(
      [&] {
        const TrainingLoss losses = work(tokens_, mask_);
        losses_ = {losses.total.detach(), losses.lm.detach(), losses.aux.detach(), losses.kd.detach(),
                   losses.isolation.detach()};
      },
      tokens.device(), warmup);
}

bool CapturedStep::fits(const torch::Tensor& tokens, const torch::Tensor& mask) const {
  return same_layout(tokens, tokens_) && same_layout(mask, mask_);
}

TrainingLoss CapturedStep::replay(const torch::Tensor& tokens, const torch::Tensor& mask) {
  TORCH_CHECK(fits(tokens, mask), "CapturedStep::replay: the batch's shapes differ from the captured ones (tokens ",
              tokens.sizes(), " vs ", tokens_.sizes(), ", mask ", mask.sizes(), " vs ", mask_.sizes(), ")");
  {
    torch::NoGradGuard no_grad;
    tokens_.copy_(tokens, /*non_blocking=*/true);
    mask_.copy_(mask, /*non_blocking=*/true);
  }
  graph_->replay();
  return losses_;
}

}  // namespace grove::orch
