// model/fused_cross_entropy.h for builds with CUDA: an autograd function around cross_entropy_kernels.cu.
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "model/cross_entropy_kernels.h"
#include "model/fused_cross_entropy.h"
#include "model/fused_cuda_util.h"

namespace grove::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CrossEntropyFunction : public torch::autograd::Function<CrossEntropyFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits, const torch::Tensor& targets) {
    const int64_t rows = logits.size(0), vocab = logits.size(1);
    const c10::cuda::CUDAGuard guard(logits.device());
    const auto options = logits.options().dtype(torch::kFloat);
    torch::Tensor nll = torch::empty({rows}, options), lse = torch::empty({rows}, options);
    detail::check_launch(kernels::cross_entropy_forward(logits.data_ptr(), targets.data_ptr<int64_t>(),
                                                        nll.data_ptr<float>(), lse.data_ptr<float>(), rows, vocab,
                                                        detail::current_stream(logits)),
                         "fused::cross_entropy (forward)");
    ctx->save_for_backward({logits, targets, lse});
    return nll;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& logits = saved[0];
    const torch::Tensor grad = grad_outputs[0].to(torch::kFloat).contiguous();
    const c10::cuda::CUDAGuard guard(logits.device());
    torch::Tensor dlogits = torch::empty_like(logits, at::MemoryFormat::Contiguous);
    detail::check_launch(kernels::cross_entropy_backward(logits.data_ptr(), saved[1].data_ptr<int64_t>(),
                                                         saved[2].data_ptr<float>(), grad.data_ptr<float>(),
                                                         dlogits.data_ptr(), logits.size(0), logits.size(1),
                                                         detail::current_stream(logits)),
                         "fused::cross_entropy (backward)");
    return {dlogits, torch::Tensor()};
  }
};

}  // namespace

bool cross_entropy_available(const torch::Tensor& logits) {
  return detail::bf16_vectorisable(logits) && logits.dim() == 2 && logits.is_contiguous();
}

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(cross_entropy_available(logits), "fused::cross_entropy: logits must be dense CUDA bf16 [rows, vocab]");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0) && targets.device() == logits.device(),
              "fused::cross_entropy: targets must be [rows] on the logits' device");
  return CrossEntropyFunction::apply(logits, targets.to(torch::kLong).contiguous());
}

}  // namespace grove::model::fused
