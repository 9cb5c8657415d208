#include "model/expert_dispatch.h"

#include "model/torch_compat.h"

namespace grove::model {
namespace {

// The (token, k) assignments sorted by expert slot (stable, so tokens keep their order inside an expert).
struct Permutation {
  torch::Tensor token;  // [M] source token of each sorted assignment
  torch::Tensor gate;   // [M] its gate value
};

Permutation sort_by_expert(const torch::Tensor& expert_index, const torch::Tensor& gate) {
  const int64_t k = expert_index.size(1);
  const torch::Tensor order = std::get<1>(torch::sort(expert_index.reshape({-1}), compat::Optional<bool>(true), /*dim=*/0));
  return {torch::div(order, k, "floor"), gate.reshape({-1}).index_select(0, order)};
}

torch::Tensor swiglu_grouped(const torch::Tensor& a, const GroupWeights& group, const torch::Tensor& ends,
                             torch::ScalarType dtype) {
  const torch::Tensor h1 = compat::grouped_mm(a, group.w1.to(dtype).transpose(1, 2), ends);
  const torch::Tensor h3 = compat::grouped_mm(a, group.w3.to(dtype).transpose(1, 2), ends);
  return compat::grouped_mm(torch::silu(h1) * h3, group.w2.to(dtype).transpose(1, 2), ends);
}

torch::Tensor swiglu_loop(const torch::Tensor& a, const GroupWeights& group, const std::vector<int64_t>& ends) {
  const torch::Tensor h1 = compat::grouped_mm_loop(a, group.w1.transpose(1, 2), ends);
  const torch::Tensor h3 = compat::grouped_mm_loop(a, group.w3.transpose(1, 2), ends);
  return compat::grouped_mm_loop(torch::silu(h1) * h3, group.w2.transpose(1, 2), ends);
}

void run_grouped(const torch::Tensor& x, const Permutation& permutation, const torch::Tensor& counts,
                 const std::vector<GroupWeights>& groups, torch::Tensor& out) {
  const int64_t rows = permutation.token.size(0);
  if (rows == 0) return;
  const torch::ScalarType dtype = expert_compute_dtype(x);
  const torch::Tensor positions = torch::arange(rows, counts.options());
  const torch::Tensor zero = torch::zeros({}, x.options().dtype(dtype));
  for (const GroupWeights& group : groups) {
    const int64_t n = group.w1.size(0);
    const torch::Tensor group_counts = counts.slice(0, group.first_slot, group.first_slot + n);
    const torch::Tensor start = counts.slice(0, 0, group.first_slot).sum();
    const torch::Tensor ends = group_counts.cumsum(0).to(torch::kInt);
    // Row i of this group's operand is sorted assignment (start + i) mod M; rows i >= count belong to other groups
    // (or are not written by the kernel) and are masked before and after the GEMMs.
    const torch::Tensor rotated = (positions + start).remainder(rows);
    const torch::Tensor valid = positions.lt(group_counts.sum()).unsqueeze(1);
    const torch::Tensor token = permutation.token.index_select(0, rotated);
    const torch::Tensor a = torch::where(valid, x.index_select(0, token).to(dtype), zero);
    const torch::Tensor y = torch::where(valid, swiglu_grouped(a, group, ends, dtype), zero);
    const torch::Tensor weighted = y * permutation.gate.index_select(0, rotated).unsqueeze(1);
    out.index_add_(0, token, weighted.to(out.scalar_type()));
  }
}

void run_loop(const torch::Tensor& x, const Permutation& permutation, const torch::Tensor& counts,
              const std::vector<GroupWeights>& groups, torch::Tensor& out) {
  const torch::Tensor host = counts.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* count = host.data_ptr<int64_t>();
  int64_t start = 0;
  for (const GroupWeights& group : groups) {
    const int64_t n = group.w1.size(0);
    std::vector<int64_t> ends(static_cast<size_t>(n));
    int64_t rows = 0;
    for (int64_t e = 0; e < n; ++e) ends[static_cast<size_t>(e)] = rows += count[group.first_slot + e];
    if (rows > 0) {
      const torch::Tensor token = permutation.token.slice(0, start, start + rows);
      const torch::Tensor y = swiglu_loop(x.index_select(0, token), group, ends);
      const torch::Tensor weighted = y * permutation.gate.slice(0, start, start + rows).unsqueeze(1);
      out.index_add_(0, token, weighted.to(out.scalar_type()));
    }
    start += rows;
  }
}

}  // namespace

std::string_view expert_backend_name(ExpertBackend backend) {
  switch (backend) {
    case ExpertBackend::kAuto: return "auto";
    case ExpertBackend::kGrouped: return "grouped";
    case ExpertBackend::kLoop: return "loop";
  }
  return "?";
}

torch::ScalarType expert_compute_dtype(const torch::Tensor& x) {
  const torch::DeviceType device = x.device().type();
  if ((device == torch::kCPU || device == torch::kCUDA) && compat::autocast_enabled(device)) {
    return compat::autocast_dtype(device);
  }
  return x.scalar_type();
}

ExpertBackend resolve_expert_backend(ExpertBackend requested, const torch::Tensor& x,
                                     const std::vector<GroupWeights>& groups) {
  if (requested != ExpertBackend::kAuto) return requested;
  if (!compat::has_native_grouped_mm(x.device(), expert_compute_dtype(x))) return ExpertBackend::kLoop;
  for (const GroupWeights& group : groups) {
    if (group.w1.size(1) % 8 != 0 || group.w1.size(2) % 8 != 0 || group.w1.size(0) >= 1024) {
      return ExpertBackend::kLoop;
    }
  }
  return ExpertBackend::kGrouped;
}

torch::Tensor run_experts(const torch::Tensor& x, const torch::Tensor& expert_index, const torch::Tensor& gate,
                          const torch::Tensor& counts, const std::vector<GroupWeights>& groups, ExpertBackend backend) {
  TORCH_CHECK(x.dim() == 2 && expert_index.dim() == 2 && expert_index.size(0) == x.size(0),
              "run_experts: expected x [N, d] and expert_index [N, k]");
  TORCH_CHECK(gate.sizes() == expert_index.sizes(), "run_experts: gate must match expert_index");
  const Permutation permutation = sort_by_expert(expert_index, gate);
  torch::Tensor out = torch::zeros_like(x);
  if (resolve_expert_backend(backend, x, groups) == ExpertBackend::kGrouped) {
    run_grouped(x, permutation, counts, groups, out);
  } else {
    run_loop(x, permutation, counts, groups, out);
  }
  return out;
}

}  // namespace grove::model
