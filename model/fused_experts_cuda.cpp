// model/fused_experts.h for builds with CUDA: checks, allocation and the current stream around expert_kernels.cu.
#include <c10/cuda/CUDAGuard.h>

#include "model/fused_cuda_util.h"
#include "model/fused_experts.h"
#include "model/dispatch_plan_kernels.h"
#include "model/expert_kernels.h"

namespace grove::model::fused {
namespace {

bool fusable(const torch::Tensor& t) { return detail::bf16_vectorisable(t) && t.is_contiguous(); }

bool gate_fits(const torch::Tensor& gate, const torch::Tensor& h13) {
  return gate.defined() && gate.device() == h13.device() && gate.numel() == h13.size(0) &&
         gate.is_floating_point();
}

}  // namespace

bool swiglu_available(const torch::Tensor& h13) { return h13.dim() == 2 && h13.size(1) % 16 == 0 && fusable(h13); }

bool swiglu_backward_available(const torch::Tensor& du, const torch::Tensor& h13) {
  return swiglu_available(h13) && fusable(du) && du.dim() == 2 && du.size(0) == h13.size(0) &&
         du.size(1) * 2 == h13.size(1) && du.device() == h13.device();
}

bool widen_available(const torch::Tensor& grads) {
  return grads.dim() == 3 && grads.size(0) <= 65535 && fusable(grads);  // one grid row per expert
}

torch::Tensor swiglu_forward(const torch::Tensor& h13, const torch::Tensor& gate) {
  TORCH_CHECK(swiglu_available(h13), "fused::swiglu_forward: h13 must be contiguous CUDA bf16 [rows, 2f], f % 8 == 0");
  const int64_t rows = h13.size(0), f = h13.size(1) / 2;
  TORCH_CHECK(gate_fits(gate, h13), "fused::swiglu_forward: gate must have one value per row on h13's device");
  const c10::cuda::CUDAGuard guard(h13.device());
  const torch::Tensor gate32 = gate.reshape({rows}).to(torch::kFloat).contiguous();
  torch::Tensor u = torch::empty({rows, f}, h13.options());
  detail::check_launch(kernels::swiglu_forward(h13.data_ptr(), gate32.data_ptr<float>(), u.data_ptr(), rows, f, detail::current_stream(h13)),
        "fused::swiglu_forward");
  return u;
}

SwigluGradients swiglu_backward(const torch::Tensor& du, const torch::Tensor& h13, const torch::Tensor& gate,
                                bool want_dgate) {
  TORCH_CHECK(swiglu_backward_available(du, h13) && gate_fits(gate, h13),
              "fused::swiglu_backward: expected dense CUDA bf16 du [rows, f] and h13 [rows, 2f], gate [rows]");
  const int64_t rows = h13.size(0), f = h13.size(1) / 2;
  const c10::cuda::CUDAGuard guard(h13.device());
  const torch::Tensor gate32 = gate.reshape({rows}).to(torch::kFloat).contiguous();
  SwigluGradients out;
  out.dh13 = torch::empty_like(h13);
  if (want_dgate) out.dgate = torch::empty({rows}, h13.options().dtype(torch::kFloat));
  detail::check_launch(kernels::swiglu_backward(du.data_ptr(), h13.data_ptr(), gate32.data_ptr<float>(), out.dh13.data_ptr(),
                                 want_dgate ? out.dgate.data_ptr<float>() : nullptr, rows, f, detail::current_stream(h13)),
        "fused::swiglu_backward");
  return out;
}

std::pair<torch::Tensor, torch::Tensor> widen_expert_gradients(const torch::Tensor& grads, const torch::Tensor& ends,
                                                               int64_t split, torch::ScalarType out_dtype) {
  TORCH_CHECK(widen_available(grads), "fused::widen_expert_gradients: grads must be contiguous CUDA bf16 [E, rows, cols]");
  const int64_t experts = grads.size(0), rows = grads.size(1), cols = grads.size(2);
  TORCH_CHECK(ends.numel() == experts && ends.scalar_type() == torch::kInt && ends.is_contiguous() &&
                  ends.device() == grads.device(),
              "fused::widen_expert_gradients: ends must be int32 [experts] on the gradients' device");
  TORCH_CHECK(split > 0 && split <= rows, "fused::widen_expert_gradients: split must be in (0, rows]");
  TORCH_CHECK(out_dtype == torch::kFloat || out_dtype == torch::kBFloat16,
              "fused::widen_expert_gradients: the output dtype must be fp32 or bf16");
  const c10::cuda::CUDAGuard guard(grads.device());
  const auto options = grads.options().dtype(out_dtype);
  torch::Tensor first = torch::empty({experts, split, cols}, options);
  torch::Tensor second;
  if (split < rows) second = torch::empty({experts, rows - split, cols}, options);
  detail::check_launch(kernels::widen_expert_gradients(grads.data_ptr(), ends.data_ptr<int32_t>(), first.data_ptr(),
                                                       second.defined() ? second.data_ptr() : nullptr,
                                                       out_dtype == torch::kBFloat16, experts, rows, split, cols,
                                                       detail::current_stream(grads)),
        "fused::widen_expert_gradients");
  return {first, second};
}

void zero_empty_experts(torch::Tensor& grads, const torch::Tensor& ends) {
  TORCH_CHECK(widen_available(grads), "fused::zero_empty_experts: grads must be contiguous CUDA bf16 [E, rows, cols]");
  TORCH_CHECK(ends.numel() == grads.size(0) && ends.scalar_type() == torch::kInt && ends.is_contiguous() &&
                  ends.device() == grads.device(),
              "fused::zero_empty_experts: ends must be int32 [experts] on the gradients' device");
  const c10::cuda::CUDAGuard guard(grads.device());
  detail::check_launch(kernels::zero_empty_experts(grads.data_ptr(), ends.data_ptr<int32_t>(), grads.size(0),
                                                   grads.size(1) * grads.size(2), detail::current_stream(grads)),
                       "fused::zero_empty_experts");
}

bool spread_available(const torch::Tensor& src) {
  const bool dtype = src.defined() && (src.scalar_type() == torch::kFloat || src.scalar_type() == torch::kBFloat16);
  return dtype && detail::vectorisable(src, src.scalar_type()) && src.dim() == 2 && src.is_contiguous();
}

bool combine_available(const torch::Tensor& src) { return src.dim() == 2 && fusable(src); }

bool stack_available(const torch::Tensor& weights) {
  const bool dtype = weights.defined() && (weights.scalar_type() == torch::kFloat || weights.scalar_type() == torch::kBFloat16);
  return dtype && detail::vectorisable(weights, weights.scalar_type()) && weights.dim() == 3 && weights.is_contiguous();
}

torch::Tensor spread_rows_to_bf16(const torch::Tensor& src, const torch::Tensor& inv, int64_t k) {
  TORCH_CHECK(spread_available(src), "fused::spread_rows_to_bf16: src must be dense CUDA fp32 or bf16 [tokens, cols]");
  TORCH_CHECK(k >= 1 && inv.scalar_type() == torch::kLong && inv.is_contiguous() && inv.device() == src.device() &&
                  inv.numel() == src.size(0) * k,
              "fused::spread_rows_to_bf16: inv must be dense int64 [tokens * k] on src's device");
  const c10::cuda::CUDAGuard guard(src.device());
  torch::Tensor out = torch::empty({inv.numel(), src.size(1)}, src.options().dtype(torch::kBFloat16));
  detail::check_launch(kernels::spread_rows_to_bf16(src.data_ptr(), src.scalar_type() == torch::kBFloat16,
                                                    inv.data_ptr<int64_t>(), out.data_ptr(), src.size(0), k,
                                                    src.size(1), detail::current_stream(src)),
                       "fused::spread_rows_to_bf16");
  return out;
}

torch::Tensor combine_rows(const torch::Tensor& src, const torch::Tensor& index, int64_t k, torch::ScalarType out_dtype) {
  TORCH_CHECK(combine_available(src), "fused::combine_rows: src must be dense CUDA bf16 [rows, cols]");
  TORCH_CHECK(k > 0 && index.numel() % k == 0 && index.scalar_type() == torch::kLong && index.is_contiguous() &&
                  index.device() == src.device(),
              "fused::combine_rows: index must be dense int64 with k entries per token on src's device");
  TORCH_CHECK(out_dtype == torch::kFloat || out_dtype == torch::kBFloat16,
              "fused::combine_rows: the output dtype must be fp32 or bf16");
  const c10::cuda::CUDAGuard guard(src.device());
  const int64_t tokens = index.numel() / k;
  torch::Tensor out = torch::empty({tokens, src.size(1)}, src.options().dtype(out_dtype));
  detail::check_launch(kernels::combine_rows(src.data_ptr(), index.data_ptr<int64_t>(), out.data_ptr(),
                                             out_dtype == torch::kBFloat16, tokens, k, src.size(1),
                                             detail::current_stream(src)),
                       "fused::combine_rows");
  return out;
}

void cast_into_stack(const torch::Tensor& weights, torch::Tensor& dst, int64_t first_expert, int64_t row_offset) {
  TORCH_CHECK(stack_available(weights),
              "fused::cast_into_stack: weights must be dense CUDA fp32 or bf16 [experts, rows, cols]");
  TORCH_CHECK(fusable(dst) && dst.dim() == 3 && dst.size(2) == weights.size(2) &&
                  first_expert + weights.size(0) <= dst.size(0) && row_offset + weights.size(1) <= dst.size(1) &&
                  dst.device() == weights.device(),
              "fused::cast_into_stack: dst must be a dense bf16 stack with room for the weights");
  const c10::cuda::CUDAGuard guard(weights.device());
  detail::check_launch(kernels::cast_into_stack(weights.data_ptr(), weights.scalar_type() == torch::kBFloat16, dst.data_ptr(),
                                                weights.size(0), weights.size(1), weights.size(2), first_expert,
                                                dst.size(1), row_offset, detail::current_stream(weights)),
        "fused::cast_into_stack");
}

bool dispatch_plan_available(const torch::Tensor& expert_index, const torch::Tensor& gate, int64_t experts,
                             size_t groups) {
  return enabled() && expert_index.defined() && expert_index.is_cuda() && expert_index.dim() == 2 &&
         expert_index.scalar_type() == torch::kLong && expert_index.numel() > 0 &&
         expert_index.numel() < (int64_t{1} << 31) && gate.defined() && gate.scalar_type() == torch::kFloat &&
         gate.device() == expert_index.device() && gate.sizes() == expert_index.sizes() && experts >= 1 &&
         experts <= kernels::kMaxPlanExperts && groups <= static_cast<size_t>(kernels::kMaxPlanGroups);
}

DispatchOrder dispatch_plan(const torch::Tensor& expert_index, const torch::Tensor& gate,
                            const std::vector<SlotRange>& groups, int64_t experts) {
  TORCH_CHECK(dispatch_plan_available(expert_index, gate, experts, groups.size()),
              "fused::dispatch_plan: expected CUDA int64 expert_index [tokens, k], an fp32 gate like it, 1 to ",
              kernels::kMaxPlanExperts, " experts and at most ", kernels::kMaxPlanGroups, " groups");
  kernels::SlotKeyMap map;
  map.groups = static_cast<int>(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    map.first_slot[g] = groups[g].first_slot;
    map.size[g] = groups[g].size;
    map.first_key[g] = groups[g].first_key;
  }
  const c10::cuda::CUDAGuard guard(expert_index.device());
  const torch::Tensor slots = expert_index.contiguous();
  const torch::Tensor gates = gate.contiguous();
  const int64_t assignments = slots.numel();
  const auto index_options = slots.options();
  torch::Tensor scratch = torch::empty({kernels::dispatch_plan_scratch(assignments, static_cast<int>(experts))},
                                       index_options.dtype(torch::kInt));
  DispatchOrder order;
  order.token = torch::empty({assignments}, index_options);
  order.inv = torch::empty({assignments}, index_options);
  order.gate = torch::empty({assignments}, gates.options());
  order.ends = torch::empty({experts}, index_options.dtype(torch::kInt));
  detail::check_launch(
      kernels::dispatch_plan(slots.data_ptr<int64_t>(), gates.data_ptr<float>(), assignments,
                             static_cast<int>(slots.size(1)), static_cast<int>(experts), map,
                             scratch.data_ptr<int32_t>(), order.token.data_ptr<int64_t>(),
                             order.inv.data_ptr<int64_t>(), order.gate.data_ptr<float>(),
                             order.ends.data_ptr<int32_t>(), detail::current_stream(slots)),
      "fused::dispatch_plan");
  return order;
}

}  // namespace grove::model::fused
