// model/fused_router.h for builds with CUDA: an autograd function around router_kernels.cu.
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "model/fused_cuda_util.h"
#include "model/fused_router.h"
#include "model/router_kernels.h"

namespace grove::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A device pointer to a defined gradient as dense fp32, or null for an undefined one (nothing depends on that
// output: the function does not materialise such gradients as zeros).
const float* optional_data(const torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }
torch::Tensor dense_fp32(const torch::Tensor& t) { return t.defined() ? t.to(torch::kFloat).contiguous() : t; }

// Inputs: logits [N, E] fp32, selection (no gradient), top_k. Outputs: gate, load balance, z-loss, expert_index,
// counts (the last two not differentiable).
struct RouterFunction : public torch::autograd::Function<RouterFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& logits, const torch::Tensor& selection,
                               int64_t top_k) {
    const int64_t tokens = logits.size(0);
    const int experts = static_cast<int>(logits.size(1)), k = static_cast<int>(top_k);
    const c10::cuda::CUDAGuard guard(logits.device());
    const auto fp32 = logits.options().dtype(torch::kFloat);
    const int blocks = kernels::route_forward_blocks(tokens);
    torch::Tensor expert_index = torch::empty({tokens, top_k}, fp32.dtype(torch::kLong));
    torch::Tensor gate = torch::empty({tokens, top_k}, fp32), lse = torch::empty({tokens}, fp32);
    const torch::Tensor partial_probability = torch::empty({blocks, experts}, fp32);
    const torch::Tensor partial_count = torch::empty({blocks, experts}, fp32.dtype(torch::kInt));
    const torch::Tensor partial_z = torch::empty({blocks}, fp32);
    torch::Tensor counts = torch::empty({experts}, fp32.dtype(torch::kLong)), fraction = torch::empty({experts}, fp32);
    torch::Tensor load_balance = torch::empty({}, fp32), z_loss = torch::empty({}, fp32);
    const cudaStream_t stream = detail::current_stream(logits);
    detail::check_launch(kernels::route_forward(logits.data_ptr<float>(), selection.data_ptr<float>(), tokens, experts,
                                                k, expert_index.data_ptr<int64_t>(), gate.data_ptr<float>(),
                                                lse.data_ptr<float>(), partial_probability.data_ptr<float>(),
                                                partial_count.data_ptr<int32_t>(), partial_z.data_ptr<float>(), stream),
                         "fused::route (forward)");
    detail::check_launch(kernels::route_finalize(partial_probability.data_ptr<float>(),
                                                 partial_count.data_ptr<int32_t>(), partial_z.data_ptr<float>(), blocks,
                                                 tokens, experts, k, counts.data_ptr<int64_t>(),
                                                 fraction.data_ptr<float>(), load_balance.data_ptr<float>(),
                                                 z_loss.data_ptr<float>(), stream),
                         "fused::route (losses)");
    ctx->save_for_backward({logits, gate, expert_index});
    ctx->saved_data["lse"] = lse;
    ctx->saved_data["fraction"] = fraction;
    ctx->mark_non_differentiable({expert_index, counts});
    // An output nothing depends on keeps an undefined gradient (not a tensor of zeros): the backward kernel then
    // skips its term.
    ctx->set_materialize_grads(false);
    return {gate, load_balance, z_loss, expert_index, counts};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &logits = saved[0], &gate = saved[1], &expert_index = saved[2];
    const torch::Tensor lse = ctx->saved_data["lse"].toTensor(), fraction = ctx->saved_data["fraction"].toTensor();
    const torch::Tensor dgate = dense_fp32(grad_outputs[0]);
    const torch::Tensor dload_balance = dense_fp32(grad_outputs[1]), dz = dense_fp32(grad_outputs[2]);
    const c10::cuda::CUDAGuard guard(logits.device());
    torch::Tensor dlogits = torch::empty_like(logits, at::MemoryFormat::Contiguous);
    detail::check_launch(kernels::route_backward(logits.data_ptr<float>(), lse.data_ptr<float>(),
                                                 expert_index.data_ptr<int64_t>(), gate.data_ptr<float>(),
                                                 optional_data(dgate), fraction.data_ptr<float>(),
                                                 optional_data(dload_balance), optional_data(dz), logits.size(0),
                                                 static_cast<int>(logits.size(1)), static_cast<int>(gate.size(1)),
                                                 dlogits.data_ptr<float>(), detail::current_stream(logits)),
                         "fused::route (backward)");
    return {dlogits, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool router_available(const torch::Tensor& logits, int64_t top_k) {
  if (!enabled() || !logits.defined() || !logits.is_cuda() || logits.scalar_type() != torch::kFloat ||
      logits.dim() != 2 || !logits.is_contiguous()) {
    return false;
  }
  const int64_t tokens = logits.size(0), experts = logits.size(1);
  return tokens >= 1 && tokens < (int64_t{1} << 31) && experts >= 1 && experts <= kernels::kMaxRouterExperts &&
         top_k >= 1 && top_k <= experts && top_k <= kernels::kMaxRouterTopK;
}

Routing route(const torch::Tensor& logits, const torch::Tensor& selection, int64_t top_k) {
  TORCH_CHECK(router_available(logits, top_k),
              "fused::route: expected dense CUDA fp32 logits [N, E], E <= 256, top_k <= min(E, 32)");
  const torch::Tensor chosen_by =
      selection.defined() ? selection.detach().to(torch::kFloat).contiguous() : logits.detach();
  TORCH_CHECK(chosen_by.sizes() == logits.sizes() && chosen_by.device() == logits.device(),
              "fused::route: selection must have the logits' shape and device");
  variable_list out = RouterFunction::apply(logits, chosen_by, top_k);
  return {out[3], out[0], out[4], out[1], out[2]};
}

}  // namespace grove::model::fused
