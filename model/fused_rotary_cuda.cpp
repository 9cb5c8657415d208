// model/fused_rotary.h for builds with CUDA: an autograd function around rotary_kernels.cu.
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include <array>

#include "model/fused_cuda_util.h"
#include "model/fused_rotary.h"
#include "model/rotary_kernels.h"

namespace grove::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The stride between consecutive token rows of [B, T, ...] when B and T collapse into rows, or 0 where they are not
// evenly spaced. A size-1 dimension's stride says nothing about where rows are (ATen calls [B, 1, ...] contiguous
// whatever its T stride), so with one token per sequence the rows are B apart, and a single row gets its own width.
int64_t token_row_stride(const torch::Tensor& t) {
  if (t.size(0) == 1 && t.size(1) == 1) return t.numel();
  if (t.size(1) == 1) return t.stride(0);
  if (t.size(0) == 1 || t.stride(0) == t.size(1) * t.stride(1)) return t.stride(1);
  return 0;
}

void launch(const std::array<kernels::HeadSpan, 3>& spans, const torch::Tensor& like, const torch::Tensor& cos,
            const torch::Tensor& sin, int64_t head_dim, float sin_sign, const char* what) {
  const c10::cuda::CUDAGuard guard(like.device());
  detail::check_launch(kernels::rotary_heads(spans.data(), static_cast<int>(spans.size()), cos.data_ptr<float>(),
                                             sin.data_ptr<float>(), like.size(0) * like.size(1), like.size(1),
                                             head_dim, sin_sign, detail::current_stream(like)),
                       what);
}

// One of q, k, v's incoming gradients as the backward reads it: [B, T, heads, D] with dense heads, uniform token
// rows and 16-byte alignment, anything else copied first. cuDNN's attention backward gives dq, dk and dv in that
// layout when every query head has its own key/value head; with grouped-query attention dk and dv come through
// repeat_interleave's backward in [B, heads, T, D] order and are copied (one extra pass over them). Zeros when absent
// (a guard: autograd hands unused outputs' gradients on as zeros already).
torch::Tensor head_gradient(const torch::Tensor& grad, const torch::Tensor& qkv, int64_t heads, int64_t head_dim) {
  const std::vector<int64_t> sizes{qkv.size(0), qkv.size(1), heads, head_dim};
  if (!grad.defined()) return torch::zeros(sizes, qkv.options());
  const int64_t row_stride = token_row_stride(grad);
  const bool readable = grad.scalar_type() == torch::kBFloat16 && grad.stride(3) == 1 &&
                        (grad.stride(2) == head_dim || heads == 1) && row_stride > 0 && row_stride % 8 == 0 &&
                        detail::aligned16(grad);
  // A fresh tensor, not contiguous(): that returns [B, 1, ...] views with any T stride as they are.
  return readable ? grad : torch::empty(sizes, qkv.options()).copy_(grad);
}

struct QkvHeadsFunction : public torch::autograd::Function<QkvHeadsFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& qkv, int64_t q_heads, int64_t kv_heads,
                               const torch::Tensor& cos, const torch::Tensor& sin) {
    const int64_t batch = qkv.size(0), length = qkv.size(1), head_dim = cos.size(1);
    const auto options = qkv.options().memory_format(at::MemoryFormat::Contiguous);
    torch::Tensor q = torch::empty({batch, length, q_heads, head_dim}, options);
    torch::Tensor k = torch::empty({batch, length, kv_heads, head_dim}, options);
    torch::Tensor v = torch::empty({batch, length, kv_heads, head_dim}, options);
    const char* base = static_cast<const char*>(qkv.data_ptr());
    const int64_t stride = token_row_stride(qkv), element = qkv.element_size();
    const std::array<kernels::HeadSpan, 3> spans{{
        {base, stride, q.data_ptr(), q_heads * head_dim, q_heads, true},
        {base + q_heads * head_dim * element, stride, k.data_ptr(), kv_heads * head_dim, kv_heads, true},
        {base + (q_heads + kv_heads) * head_dim * element, stride, v.data_ptr(), kv_heads * head_dim, kv_heads, false},
    }};
    launch(spans, qkv, cos, sin, head_dim, 1.0f, "fused::qkv_heads");
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["q_heads"] = q_heads;
    ctx->saved_data["kv_heads"] = kv_heads;
    ctx->saved_data["shape"] = qkv.sizes().vec();
    return {q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &cos = saved[0], &sin = saved[1];
    const int64_t q_heads = ctx->saved_data["q_heads"].toInt(), kv_heads = ctx->saved_data["kv_heads"].toInt();
    const int64_t head_dim = cos.size(1);
    const auto options = cos.options().dtype(torch::kBFloat16);
    torch::Tensor dqkv = torch::empty(ctx->saved_data["shape"].toIntVector(), options);
    const torch::Tensor dq = head_gradient(grad_outputs[0], dqkv, q_heads, head_dim);
    const torch::Tensor dk = head_gradient(grad_outputs[1], dqkv, kv_heads, head_dim);
    const torch::Tensor dv = head_gradient(grad_outputs[2], dqkv, kv_heads, head_dim);
    char* base = static_cast<char*>(dqkv.data_ptr());
    const int64_t stride = token_row_stride(dqkv), element = dqkv.element_size();
    const std::array<kernels::HeadSpan, 3> spans{{
        {dq.data_ptr(), token_row_stride(dq), base, stride, q_heads, true},
        {dk.data_ptr(), token_row_stride(dk), base + q_heads * head_dim * element, stride, kv_heads, true},
        {dv.data_ptr(), token_row_stride(dv), base + (q_heads + kv_heads) * head_dim * element, stride, kv_heads,
         false},
    }};
    launch(spans, dqkv, cos, sin, head_dim, -1.0f, "fused::qkv_heads (backward)");
    return {dqkv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool tables_fit(const torch::Tensor& table, const torch::Tensor& qkv) {
  return table.defined() && table.is_cuda() && table.device() == qkv.device() &&
         table.scalar_type() == torch::kFloat && table.is_contiguous() && table.dim() == 2 &&
         table.size(0) == qkv.size(1);
}

}  // namespace

bool qkv_heads_available(const torch::Tensor& qkv, int64_t q_heads, int64_t kv_heads, const torch::Tensor& cos,
                         const torch::Tensor& sin) {
  if (!detail::bf16_vectorisable(qkv) || qkv.dim() != 3 || qkv.size(0) == 0 || qkv.size(1) == 0) return false;
  if (q_heads < 1 || kv_heads < 1 || !tables_fit(cos, qkv) || !tables_fit(sin, qkv)) return false;
  const int64_t head_dim = cos.size(1);
  const int64_t row_stride = token_row_stride(qkv);
  return sin.size(1) == head_dim && head_dim % 16 == 0 && qkv.size(2) == (q_heads + 2 * kv_heads) * head_dim &&
         row_stride % 8 == 0 && row_stride >= qkv.size(2);
}

QkvHeads qkv_heads(const torch::Tensor& qkv, int64_t q_heads, int64_t kv_heads, const torch::Tensor& cos,
                   const torch::Tensor& sin) {
  TORCH_CHECK(qkv_heads_available(qkv, q_heads, kv_heads, cos, sin),
              "fused::qkv_heads: qkv must be CUDA bf16 [B, T, (q_heads + 2 kv_heads) * D] with dense rows and "
              "D % 16 == 0, cos and sin fp32 [T, D] on qkv's device");
  const variable_list heads = QkvHeadsFunction::apply(qkv, q_heads, kv_heads, cos, sin);
  return {heads[0], heads[1], heads[2]};
}

}  // namespace grove::model::fused
