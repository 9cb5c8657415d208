// model/fused_rotary.h for builds with CUDA: an autograd function around rotary_kernels.cu.
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "model/fused_cuda_util.h"
#include "model/fused_rotary.h"
#include "model/rotary_kernels.h"

namespace grove::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// x [B, T, H, D] with dense heads and a uniform token stride (B and T collapse into rows) -> dense result.
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, float sin_sign) {
  const int64_t batch = x.size(0), length = x.size(1), heads = x.size(2), head_dim = x.size(3);
  const c10::cuda::CUDAGuard guard(x.device());
  torch::Tensor out = torch::empty({batch, length, heads, head_dim}, x.options().memory_format(at::MemoryFormat::Contiguous));
  detail::check_launch(kernels::rotary(x.data_ptr(), x.stride(1), cos.data_ptr<float>(), sin.data_ptr<float>(),
                                       out.data_ptr(), batch * length, length, heads, head_dim, sin_sign,
                                       detail::current_stream(x)),
                       "fused::rotary");
  return out;
}

struct RotaryFunction : public torch::autograd::Function<RotaryFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin) {
    ctx->save_for_backward({cos, sin});
    return rotate(x, cos, sin, 1.0f);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor grad = detail::dense_aligned(grad_outputs[0]);
    return {rotate(grad, saved[0], saved[1], -1.0f), torch::Tensor(), torch::Tensor()};
  }
};

bool tables_fit(const torch::Tensor& table, const torch::Tensor& x) {
  return table.defined() && table.is_cuda() && table.device() == x.device() && table.scalar_type() == torch::kFloat &&
         table.is_contiguous() && table.dim() == 2 && table.size(0) == x.size(1) && table.size(1) == x.size(3);
}

}  // namespace

bool rotary_available(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  if (!detail::bf16_vectorisable(x) || x.dim() != 4 || x.size(0) == 0 || x.size(1) == 0) return false;
  const int64_t heads = x.size(2), head_dim = x.size(3);
  const bool heads_dense = x.stride(2) == head_dim || heads == 1;
  const bool rows_uniform = x.stride(0) == x.size(1) * x.stride(1) || x.size(0) == 1;
  return head_dim % 16 == 0 && heads_dense && rows_uniform && x.stride(1) % 8 == 0 &&
         x.stride(1) >= heads * head_dim && tables_fit(cos, x) && tables_fit(sin, x);
}

torch::Tensor rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  TORCH_CHECK(rotary_available(x, cos, sin),
              "fused::rotary: x must be CUDA bf16 [B, T, H, D] with dense heads and D % 16 == 0, cos and sin fp32 "
              "[T, D] on x's device");
  return RotaryFunction::apply(x, cos, sin);
}

}  // namespace grove::model::fused
