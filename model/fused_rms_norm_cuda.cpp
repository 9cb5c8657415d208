// model/fused_rms_norm.h for builds with CUDA: an autograd function around rms_norm_kernels.cu.
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "model/fused_cuda_util.h"
#include "model/fused_rms_norm.h"
#include "model/rms_norm_kernels.h"

namespace grove::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

kernels::NormDelta delta_kind(const torch::Tensor& delta) {
  if (!delta.defined()) return kernels::NormDelta::kNone;
  return delta.scalar_type() == torch::kBFloat16 ? kernels::NormDelta::kBf16 : kernels::NormDelta::kFloat;
}

// The forward of both functions below: {sum, normed} with a delta, {normed} without (the sum is then the residual
// itself, which the caller keeps).
variable_list norm_forward(AutogradContext* ctx, const torch::Tensor& residual, const torch::Tensor& delta,
                           const torch::Tensor& weight, double eps, int64_t normed_dtype) {
  const int64_t width = residual.size(-1), rows = residual.numel() / width;
  const c10::cuda::CUDAGuard guard(residual.device());
  const auto dtype = static_cast<torch::ScalarType>(normed_dtype);
  torch::Tensor normed = torch::empty_like(residual, residual.options().dtype(dtype));
  torch::Tensor sum = delta.defined() ? torch::empty_like(residual) : torch::Tensor();
  torch::Tensor rstd = torch::empty({rows}, residual.options());
  detail::check_launch(
      kernels::add_rms_norm_forward(residual.data_ptr<float>(), delta.defined() ? delta.data_ptr() : nullptr,
                                    delta_kind(delta), weight.data_ptr<float>(), static_cast<float>(eps), rows, width,
                                    sum.defined() ? sum.data_ptr<float>() : nullptr, normed.data_ptr(),
                                    dtype == torch::kBFloat16, rstd.data_ptr<float>(),
                                    detail::current_stream(residual)),
      "fused::add_rms_norm (forward)");
  ctx->save_for_backward({sum.defined() ? sum : residual, rstd, weight});
  // The sum's gradient stays undefined where nothing reads the sum (the model's last norm): no tensor of zeros.
  ctx->set_materialize_grads(false);
  if (sum.defined()) return {sum, normed};
  return {normed};
}

struct NormGradients {
  torch::Tensor dh;           // fp32: the residual's gradient, and a fp32 delta's
  torch::Tensor ddelta_bf16;  // a bf16 delta's gradient (defined when asked for)
  torch::Tensor dweight;      // defined when asked for
};

// dsum: the sum's gradient (undefined: none); dnormed: the normed rows'.
NormGradients norm_backward(AutogradContext* ctx, const torch::Tensor& dsum_in, const torch::Tensor& dnormed_in,
                            bool want_bf16_delta, bool want_weight) {
  const auto saved = ctx->get_saved_variables();
  const torch::Tensor &h = saved[0], &rstd = saved[1], &weight = saved[2];
  const torch::Tensor dsum = dsum_in.defined() ? detail::dense_aligned(dsum_in.to(torch::kFloat)) : torch::Tensor();
  const torch::Tensor dnormed = dnormed_in.defined() ? detail::dense_aligned(dnormed_in) : torch::zeros_like(h);
  const int64_t width = h.size(-1), rows = h.numel() / width;
  const c10::cuda::CUDAGuard guard(h.device());
  NormGradients grads;
  grads.dh = torch::empty_like(h);
  if (want_bf16_delta) grads.ddelta_bf16 = torch::empty_like(h, h.options().dtype(torch::kBFloat16));
  torch::Tensor partial;  // the weight gradient's per-block sums; none for a frozen weight
  if (want_weight) partial = torch::empty({kernels::add_rms_norm_backward_blocks(rows), width}, h.options());
  detail::check_launch(
      kernels::add_rms_norm_backward(h.data_ptr<float>(), rstd.data_ptr<float>(), weight.data_ptr<float>(),
                                     dnormed.data_ptr(), dnormed.scalar_type() == torch::kBFloat16,
                                     dsum.defined() ? dsum.data_ptr<float>() : nullptr, rows, width,
                                     grads.dh.data_ptr<float>(),
                                     want_bf16_delta ? grads.ddelta_bf16.data_ptr() : nullptr,
                                     want_weight ? partial.data_ptr<float>() : nullptr,
                                     detail::current_stream(h)),
      "fused::add_rms_norm (backward)");
  if (want_weight) grads.dweight = partial.sum(0);
  return grads;
}

// Inputs: residual, weight, eps, the normed rows' dtype. Output: normed.
struct RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& residual, const torch::Tensor& weight,
                               double eps, int64_t normed_dtype) {
    return norm_forward(ctx, residual, torch::Tensor(), weight, eps, normed_dtype);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    NormGradients grads = norm_backward(ctx, torch::Tensor(), grad_outputs[0], false, ctx->needs_input_grad(1));
    return {grads.dh, grads.dweight, torch::Tensor(), torch::Tensor()};
  }
};

// Inputs: residual, delta, weight, eps, the normed rows' dtype. Outputs: sum, normed.
struct AddRmsNormFunction : public torch::autograd::Function<AddRmsNormFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& residual, const torch::Tensor& delta,
                               const torch::Tensor& weight, double eps, int64_t normed_dtype) {
    ctx->saved_data["bf16_delta"] = delta.scalar_type() == torch::kBFloat16;
    return norm_forward(ctx, residual, delta, weight, eps, normed_dtype);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const bool bf16_delta = ctx->saved_data["bf16_delta"].toBool() && ctx->needs_input_grad(1);
    NormGradients grads = norm_backward(ctx, grad_outputs[0], grad_outputs[1], bf16_delta, ctx->needs_input_grad(2));
    torch::Tensor ddelta;
    if (ctx->needs_input_grad(1)) ddelta = bf16_delta ? grads.ddelta_bf16 : grads.dh;
    return {grads.dh, ddelta, grads.dweight, torch::Tensor(), torch::Tensor()};
  }
};

bool dense_on(const torch::Tensor& t, const torch::Tensor& like) {
  return t.is_cuda() && t.device() == like.device() && t.is_contiguous() && detail::aligned16(t);
}

}  // namespace

bool add_rms_norm_available(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                            torch::ScalarType normed_dtype) {
  if (!enabled() || !residual.defined() || !weight.defined() || residual.dim() < 1 || residual.numel() == 0 ||
      residual.scalar_type() != torch::kFloat || !dense_on(residual, residual)) {
    return false;
  }
  const int64_t width = residual.size(-1);
  if (width % 128 != 0 || width > kernels::kMaxNormWidth) return false;
  if (weight.scalar_type() != torch::kFloat || weight.dim() != 1 || weight.size(0) != width ||
      !dense_on(weight, residual)) {
    return false;
  }
  if (delta.defined() && (delta.sizes() != residual.sizes() || !dense_on(delta, residual) ||
                          (delta.scalar_type() != torch::kFloat && delta.scalar_type() != torch::kBFloat16))) {
    return false;
  }
  return normed_dtype == torch::kFloat || normed_dtype == torch::kBFloat16;
}

AddNormed add_rms_norm(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                       double eps, torch::ScalarType normed_dtype) {
  TORCH_CHECK(add_rms_norm_available(residual, delta, weight, normed_dtype),
              "fused::add_rms_norm: expected dense CUDA fp32 residual [..., width] (width a multiple of 128, at most ",
              kernels::kMaxNormWidth, "), delta of its shape in fp32 or bf16 or none, fp32 weight [width], and fp32 "
              "or bf16 normed rows");
  const auto dtype = static_cast<int64_t>(normed_dtype);
  if (!delta.defined()) return {residual, RmsNormFunction::apply(residual, weight, eps, dtype)[0]};
  variable_list out = AddRmsNormFunction::apply(residual, delta, weight, eps, dtype);
  return {out[0], out[1]};
}

}  // namespace grove::model::fused
