// model/fused_adamw.h for builds with CUDA: the chunk table built on the host, uploaded from pinned memory on the
// current stream, and one launch of adamw_kernels.cu over it.
#include <c10/cuda/CUDAGuard.h>

#include <cmath>
#include <cstring>

#include "model/adamw_kernels.h"
#include "model/fused_adamw.h"
#include "model/fused_cuda_util.h"

namespace grove::model::fused {
namespace {

bool dense_fp32_on(const torch::Tensor& t, const torch::Device& device) {
  return t.defined() && t.device() == device && t.scalar_type() == torch::kFloat && t.is_contiguous();
}

}  // namespace

bool adamw_available(const std::vector<AdamwParameter>& parameters) {
  if (!enabled() || parameters.empty() || !parameters.front().param.defined() || !parameters.front().param.is_cuda()) {
    return false;
  }
  const torch::Device device = parameters.front().param.device();
  for (const AdamwParameter& p : parameters) {
    const bool grad_ok = p.grad.defined() && p.grad.device() == device && p.grad.is_contiguous() &&
                         (p.grad.scalar_type() == torch::kFloat || p.grad.scalar_type() == torch::kBFloat16);
    if (!dense_fp32_on(p.param, device) || !grad_ok || !dense_fp32_on(p.exp_avg, device) ||
        !dense_fp32_on(p.exp_avg_sq, device) || !dense_fp32_on(p.step, device) || p.step.numel() != 1) {
      return false;
    }
    const int64_t n = p.param.numel();
    if (p.grad.numel() != n || p.exp_avg.numel() != n || p.exp_avg_sq.numel() != n) return false;
  }
  return true;
}

void adamw_update(const std::vector<AdamwParameter>& parameters, const AdamwHyper& hyper,
                  const torch::Tensor& grad_divisor) {
  TORCH_CHECK(adamw_available(parameters),
              "fused::adamw_update: expected contiguous fp32 CUDA parameters and moments, and fp32 or bf16 gradients, "
              "on one device");
  const torch::Device device = parameters.front().param.device();
  TORCH_CHECK(!grad_divisor.defined() || (dense_fp32_on(grad_divisor, device) && grad_divisor.numel() == 1),
              "fused::adamw_update: the gradient divisor must be one fp32 value on the parameters' device");
  TORCH_CHECK(parameters.size() < (1u << 30), "fused::adamw_update: too many parameters for one launch");
  const c10::cuda::CUDAGuard guard(device);

  std::vector<kernels::AdamwTensor> table;
  table.reserve(parameters.size());
  int64_t chunks = 0;
  for (const AdamwParameter& p : parameters) {
    const double t = static_cast<double>(p.step_count);
    TORCH_CHECK(t >= 1, "fused::adamw_update: step counts start at 1 (the count after this update)");
    if (p.param.numel() == 0) {  // no chunk, so the kernel never sees it: its step count is set here
      p.step.fill_(t);
      continue;
    }
    kernels::AdamwTensor& row = table.emplace_back();
    row.param = p.param.data_ptr<float>();
    row.grad = p.grad.data_ptr();
    row.grad_bf16 = p.grad.scalar_type() == torch::kBFloat16;
    row.exp_avg = p.exp_avg.data_ptr<float>();
    row.exp_avg_sq = p.exp_avg_sq.data_ptr<float>();
    row.step = p.step.data_ptr<float>();
    row.numel = p.param.numel();
    row.first_chunk = chunks;
    row.step_size = static_cast<float>(hyper.lr / (1.0 - std::pow(hyper.beta1, t)));
    row.bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(hyper.beta2, t)));
    row.lr_weight_decay = static_cast<float>(p.decay ? hyper.lr * hyper.weight_decay : 0.0);
    row.step_value = static_cast<float>(t);
    row.vectorised = row.numel % 4 == 0 && detail::aligned16(p.param) && detail::aligned16(p.grad) &&
                     detail::aligned16(p.exp_avg) && detail::aligned16(p.exp_avg_sq);
    chunks += kernels::adamw_chunks(row.numel);
  }
  if (chunks == 0) return;

  const auto bytes = static_cast<int64_t>(table.size() * sizeof(kernels::AdamwTensor));
  torch::Tensor host = torch::empty({bytes}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
  std::memcpy(host.data_ptr(), table.data(), static_cast<size_t>(bytes));
  // Stream-ordered: the caching allocators keep both buffers until the work queued on this stream has used them.
  const torch::Tensor on_device = host.to(device, /*non_blocking=*/true);
  detail::check_launch(
      kernels::adamw_update(reinterpret_cast<const kernels::AdamwTensor*>(on_device.data_ptr()),
                            static_cast<int>(table.size()), chunks, static_cast<float>(hyper.beta1),
                            static_cast<float>(hyper.beta2), static_cast<float>(hyper.eps),
                            grad_divisor.defined() ? grad_divisor.data_ptr<float>() : nullptr,
                            detail::current_stream(on_device)),
      "fused::adamw_update");
  // As ATen's in-place updates do: whatever stamped a parameter's version (model/expert_stack_cache.h, autograd's
  // saved-tensor checks) sees that it changed.
  for (const AdamwParameter& p : parameters) p.param.unsafeGetTensorImpl()->bump_version();
}

}  // namespace grove::model::fused
