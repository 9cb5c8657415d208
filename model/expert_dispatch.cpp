#include "model/expert_dispatch.h"

#include <torch/csrc/autograd/custom_function.h>

#include <array>

#include "model/cuda_graph.h"
#include "model/expert_group.h"
#include "model/fused_experts.h"
#include "model/torch_compat.h"

namespace grove::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---------------------------------------------------------------------------------------------------------------
// Loop path: per-expert slices on host-known counts (the reference; CPU with LibTorch 1.13).

struct Permutation {
  torch::Tensor token;  // [M] source token of each sorted assignment
  torch::Tensor gate;   // [M] its gate value
};

Permutation sort_by_expert(const torch::Tensor& expert_index, const torch::Tensor& gate) {
  const int64_t k = expert_index.size(1);
  const torch::Tensor order = std::get<1>(torch::sort(expert_index.reshape({-1}), compat::Optional<bool>(true), /*dim=*/0));
  return {torch::div(order, k, "floor"), gate.reshape({-1}).index_select(0, order)};
}

torch::Tensor swiglu_loop(const torch::Tensor& a, const GroupWeights& group, const std::vector<int64_t>& ends) {
  const torch::Tensor h1 = compat::grouped_mm_loop(a, group.w1.transpose(1, 2), ends);
  const torch::Tensor h3 = compat::grouped_mm_loop(a, group.w3.transpose(1, 2), ends);
  return compat::grouped_mm_loop(torch::silu(h1) * h3, group.w2.transpose(1, 2), ends);
}

torch::Tensor run_loop(const torch::Tensor& x, const torch::Tensor& expert_index, const torch::Tensor& gate,
                       const torch::Tensor& counts, const std::vector<GroupWeights>& groups,
                       torch::ScalarType out_dtype) {
  const Permutation permutation = sort_by_expert(expert_index, gate);
  // Each token's k contributions are added in fp32 at least and rounded to out_dtype once, as the grouped path's
  // combine does: a bf16 accumulator would round after every addition.
  const torch::ScalarType sum_dtype = c10::promoteTypes(out_dtype, torch::kFloat);
  torch::Tensor out = torch::zeros(x.sizes(), x.options().dtype(sum_dtype));
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
      out.index_add_(0, token, weighted.to(sum_dtype));
    }
    start += rows;
  }
  return out.to(out_dtype);
}

// ---------------------------------------------------------------------------------------------------------------
// Grouped path: one grouped GEMM per weight over every expert of the layer, with a hand-written backward.
//
// The (token, k) assignments are sorted by a key that puts the trainable groups' experts first (in group order),
// then the frozen ones. Each expert's rows are then one contiguous block of the sorted operand, every row belongs
// to a block (no masking, no host synchronisation), and the weight gradients of all trainable experts come from
// one grouped GEMM over the leading blocks only: frozen experts cost no weight-gradient FLOPs.
// The sort is stable (ties in assignment order): a counting sort of three small kernels on CUDA
// (model/dispatch_plan_kernels.h), ATen's stable sort elsewhere; both give the same plan.
// Forward per sorted row i of expert e (gate folded in before the down projection, which is linear):
//   h13_i = [W1_e; W3_e] a_i,   u_i = gate_i * silu(h1_i) * h3_i,   y_i = W2_e u_i,   out_n = sum_k y_(n,k)

struct DispatchPlan {
  torch::Tensor token;  // [M] int64: source token of sorted row i
  torch::Tensor inv;    // [M] int64: sorted row of assignment n * k + j
  torch::Tensor gate;   // [M] gate of sorted row i, in the gate's dtype
  torch::Tensor ends;   // [E] int32: cumulative row ends, experts in key order
  std::vector<size_t> group_order;  // groups in key order: trainable first
  std::vector<int64_t> key_first;   // first key of each group (indexed by group)
  int64_t trainable_experts = 0;    // experts of the leading trainable groups
  int64_t top_k = 0;
  bool training = false;            // gradients on: weight gradients for the trainable groups
};

bool group_trainable(const GroupWeights& group) {
  return group.w1.requires_grad() || group.w3.requires_grad() || group.w2.requires_grad();
}

DispatchPlan plan_dispatch(const torch::Tensor& expert_index, const torch::Tensor& gate,
                           const std::vector<GroupWeights>& groups) {
  DispatchPlan plan;
  plan.top_k = expert_index.size(1);
  const bool training = torch::GradMode::is_enabled();
  plan.training = training;
  for (bool trainable : {true, false}) {
    for (size_t g = 0; g < groups.size(); ++g) {
      if ((training && group_trainable(groups[g])) == trainable) plan.group_order.push_back(g);
    }
  }
  plan.key_first.resize(groups.size());
  int64_t total = 0;
  for (const size_t g : plan.group_order) {
    plan.key_first[g] = total;
    total += groups[g].w1.size(0);
    if (training && group_trainable(groups[g])) plan.trainable_experts = total;
  }

  if (fused::dispatch_plan_available(expert_index, gate, total, groups.size())) {
    std::vector<fused::SlotRange> ranges;
    for (size_t g = 0; g < groups.size(); ++g) {
      ranges.push_back({groups[g].first_slot, groups[g].w1.size(0), plan.key_first[g]});
    }
    fused::DispatchOrder order = fused::dispatch_plan(expert_index, gate, ranges, total);
    plan.token = std::move(order.token);
    plan.inv = std::move(order.inv);
    plan.gate = std::move(order.gate);
    plan.ends = std::move(order.ends);
    return plan;
  }
  const torch::Tensor slots = expert_index.reshape({-1});
  torch::Tensor keys = slots;
  for (size_t g = 0; g < groups.size(); ++g) {
    const int64_t shift = plan.key_first[g] - groups[g].first_slot;
    if (shift == 0) continue;
    const torch::Tensor in_group = slots.ge(groups[g].first_slot).logical_and(slots.lt(groups[g].first_slot + groups[g].w1.size(0)));
    keys = keys + in_group.to(keys.scalar_type()) * shift;
  }
  auto [sorted_keys, order] = torch::sort(keys, compat::Optional<bool>(true), /*dim=*/0);
  plan.token = torch::div(order, plan.top_k, "floor");
  plan.inv = torch::empty_like(order).scatter_(0, order, torch::arange(order.size(0), order.options()));
  plan.gate = gate.reshape({-1}).index_select(0, order);
  plan.ends = torch::searchsorted(sorted_keys, torch::arange(total, sorted_keys.options()), /*out_int32=*/true,
                                  /*right=*/true);
  return plan;
}

// One stacked copy of every group's weights in key order, in the compute dtype: [E, 2f, d] (w1 rows then w3 rows
// of each expert) and [E, d, f]. These are the GEMM operands; the parameters stay the master copies. A single group
// already in the compute dtype (bf16 parameters) is its own stack: its w2, and the buffer whose halves its w1 and w3
// are (model/expert_group.h), so nothing is copied. With several groups, a group's w1 and w3 in one buffer are cast
// or copied into the stack as one block.
// With `cache` (training forwards of a layer with a frozen group), the stacks persist between forwards and only what
// may have changed is stacked again: see model/expert_stack_cache.h for when they are written in place.
std::pair<torch::Tensor, torch::Tensor> stack_weights(const std::vector<GroupWeights>& groups, const DispatchPlan& plan,
                                                      torch::ScalarType dtype, ExpertStackCache* cache) {
  const int64_t experts = plan.ends.size(0);
  const int64_t f = groups[0].w1.size(1), d = groups[0].w1.size(2);
  const auto options = groups[0].w1.options().dtype(dtype);
  const bool w2_is_stack =
      groups.size() == 1 && groups[0].w2.scalar_type() == dtype && groups[0].w2.is_contiguous();
  const bool one_group_in_dtype = groups.size() == 1 && groups[0].w1.scalar_type() == dtype;
  const torch::Tensor own_w13 = one_group_in_dtype ? w13_buffer(groups[0].w1, groups[0].w3) : torch::Tensor();
  if (w2_is_stack && own_w13.defined()) return {own_w13, groups[0].w2};

  std::vector<std::array<TensorStamp, 3>> stamps;
  std::vector<int64_t> layout = plan.key_first;
  layout.push_back(plan.trainable_experts);
  bool use_cache = cache != nullptr && plan.training && plan.trainable_experts < experts && !w2_is_stack;
  bool reuse = false;  // the cached stacks have this layout: frozen groups whose stamps match need no stacking
  if (use_cache) {
    for (const GroupWeights& group : groups) {
      stamps.push_back({TensorStamp::of(group.w1), TensorStamp::of(group.w3), TensorStamp::of(group.w2)});
    }
    reuse = cache->w13.defined() && cache->layout == layout && cache->w13.scalar_type() == dtype &&
            cache->w13.device() == options.device() && cache->w13.sizes() == torch::IntArrayRef{experts, 2 * f, d} &&
            cache->w2.sizes() == torch::IntArrayRef{experts, d, f};
  }
  const bool held_elsewhere = reuse && (cache->w13.use_count() > 1 || cache->w2.use_count() > 1);
  if (use_cache && options.device().is_cuda() && CapturedWork::capturing(options.device())) {
    // Replays will write into the cached stacks: only when they are the cache's alone, every frozen group's part is
    // already current (what is stacked under capture only runs at replay, so its stamp must not be recorded now),
    // and the graph keeps them.
    bool frozen_current = reuse;
    for (size_t g = 0; frozen_current && g < groups.size(); ++g) {
      if (plan.key_first[g] >= plan.trainable_experts && !(cache->stamps[g] == stamps[g])) frozen_current = false;
    }
    use_cache = frozen_current && !held_elsewhere && CapturedWork::keep_alive_with_capture(cache->w13) &&
                CapturedWork::keep_alive_with_capture(cache->w2);
    reuse = use_cache;
  }

  torch::Tensor w13, w2;
  if (reuse) {
    w13 = held_elsewhere ? cache->w13.clone() : cache->w13;
    w2 = held_elsewhere ? cache->w2.clone() : cache->w2;
  } else {
    w13 = torch::empty({experts, 2 * f, d}, options);
    w2 = w2_is_stack ? groups[0].w2 : torch::empty({experts, d, f}, options);
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const int64_t first = plan.key_first[g], n = groups[g].w1.size(0);
    if (reuse && first >= plan.trainable_experts && cache->stamps[g] == stamps[g]) continue;  // frozen, unchanged
    const GroupWeights& group = groups[g];
    // A single group in the compute dtype has its buffer worked out above already.
    const torch::Tensor group_w13 = own_w13.defined() ? own_w13 : w13_buffer(group.w1, group.w3);
    if (dtype == torch::kBFloat16 && fused::stack_available(group.w2) &&
        (group_w13.defined() ? fused::stack_available(group_w13)
                             : fused::stack_available(group.w1) && fused::stack_available(group.w3))) {
      if (group_w13.defined()) {
        fused::cast_into_stack(group_w13, w13, first, 0);
      } else {
        fused::cast_into_stack(group.w1, w13, first, 0);
        fused::cast_into_stack(group.w3, w13, first, f);
      }
      if (!w2_is_stack) fused::cast_into_stack(group.w2, w2, first, 0);
      continue;
    }
    if (group_w13.defined()) {
      w13.narrow(0, first, n).copy_(group_w13);
    } else {
      w13.narrow(0, first, n).narrow(1, 0, f).copy_(group.w1);
      w13.narrow(0, first, n).narrow(1, f, f).copy_(group.w3);
    }
    if (!w2_is_stack) w2.narrow(0, first, n).copy_(group.w2);
  }
  if (use_cache) *cache = {w13, w2, std::move(layout), std::move(stamps)};
  return {w13, w2};
}

// x [N, d] in expert order and `dtype`: sorted row p is x[token[p]], the operand of the expert GEMMs. On CUDA in bf16
// one kernel that reads each token's row once and writes it to its k sorted rows inv[n * k + j].
torch::Tensor to_expert_order(const torch::Tensor& x, const torch::Tensor& token, const torch::Tensor& inv, int64_t k,
                              torch::ScalarType dtype) {
  if (dtype == torch::kBFloat16 && fused::spread_available(x)) return fused::spread_rows_to_bf16(x, inv, k);
  return x.to(dtype).index_select(0, token);
}

// out[n] = sum_j rows[inv[n * k + j]], summed in fp32 and returned in `dtype`: each token's k expert outputs, back
// in token order.
torch::Tensor combine(const torch::Tensor& rows, const torch::Tensor& inv, int64_t k, torch::ScalarType dtype) {
  if (fused::combine_available(rows) && (dtype == torch::kFloat || dtype == torch::kBFloat16)) {
    return fused::combine_rows(rows, inv, k, dtype);
  }
  return rows.index_select(0, inv).view({inv.size(0) / k, k, rows.size(1)}).sum(1, false, torch::kFloat).to(dtype);
}

// ExpertGradients::kGemmDtype: what AccumulateGrad does with a gradient, minus the cast to the parameter's dtype. The
// first gradient becomes .grad as it is (bf16); one added to an existing .grad (a second backward before the
// gradients are reset) is summed in the parameter's dtype, so accumulating here never rounds to bf16.
void set_or_add_grad(const torch::Tensor& param, const torch::Tensor& grad) {
  torch::Tensor& current = param.mutable_grad();
  if (!current.defined()) {
    current = grad;
  } else if (current.scalar_type() == param.scalar_type()) {
    current.add_(grad);
  } else {
    current = current.to(param.scalar_type()).add_(grad);
  }
}

// Inputs: x [N, d], gate [N, k], then (w1, w3, w2) of every group in group order. Output: [N, d] in out_dtype.
struct GroupedExperts : public torch::autograd::Function<GroupedExperts> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& gate,
                               torch::TensorList weights, const DispatchPlan* plan, torch::ScalarType dtype,
                               ExpertStackCache* cache, torch::ScalarType out_dtype, ExpertGradients gradients) {
    (void)gate;  // its values arrive sorted in plan->gate; the argument is what autograd differentiates
    std::vector<GroupWeights> groups;
    std::vector<int64_t> group_sizes;
    for (size_t i = 0; i + 2 < weights.size(); i += 3) {
      groups.push_back({weights[i], weights[i + 1], weights[i + 2], 0});
      group_sizes.push_back(weights[i].size(0));
    }
    const auto [w13, w2] = stack_weights(groups, *plan, dtype, cache);
    const int64_t f = w2.size(2);
    const torch::Tensor a = to_expert_order(x, plan->token, plan->inv, plan->top_k, dtype);
    const torch::Tensor h13 = compat::grouped_mm(a, w13.transpose(1, 2), plan->ends);
    torch::Tensor u;
    if (fused::swiglu_available(h13)) {
      u = fused::swiglu_forward(h13, plan->gate);
    } else {
      u = torch::silu(h13.narrow(1, 0, f));
      u.mul_(h13.narrow(1, f, f)).mul_(plan->gate.to(dtype).unsqueeze(1));
    }
    const torch::Tensor y = compat::grouped_mm(u, w2.transpose(1, 2), plan->ends);
    const torch::Tensor out = combine(y, plan->inv, plan->top_k, out_dtype);

    for (const auto& [name, tensor] : {std::pair<const char*, torch::Tensor>{"a", a}, {"h13", h13}, {"u", u},
                                       {"w13", w13}, {"w2", w2}, {"token", plan->token}, {"inv", plan->inv},
                                       {"gate", plan->gate}, {"ends", plan->ends}}) {
      ctx->saved_data[name] = tensor;
    }
    ctx->saved_data["trainable_experts"] = plan->trainable_experts;
    ctx->saved_data["top_k"] = plan->top_k;
    ctx->saved_data["key_first"] = plan->key_first;
    ctx->saved_data["group_sizes"] = group_sizes;
    ctx->saved_data["x_dtype"] = static_cast<int64_t>(x.scalar_type());
    ctx->saved_data["weight_dtype"] = static_cast<int64_t>(weights[0].scalar_type());
    const bool set_grads = gradients == ExpertGradients::kGemmDtype && weights[0].scalar_type() != dtype;
    ctx->saved_data["set_gemm_dtype_grads"] = set_grads;
    // The parameters themselves (not saved copies): their .grad is what the backward sets.
    if (set_grads) ctx->saved_data["weights"] = weights.vec();
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = [&](const char* name) { return ctx->saved_data[name].toTensor(); };
    const torch::Tensor a = saved("a"), h13 = saved("h13"), u = saved("u"), w13 = saved("w13"), w2 = saved("w2");
    const torch::Tensor token = saved("token"), inv = saved("inv"), gate = saved("gate"), ends = saved("ends");
    const int64_t trainable = ctx->saved_data["trainable_experts"].toInt();
    const int64_t top_k = ctx->saved_data["top_k"].toInt();
    const std::vector<int64_t> key_first = ctx->saved_data["key_first"].toIntVector();
    const std::vector<int64_t> group_sizes = ctx->saved_data["group_sizes"].toIntVector();
    const auto x_dtype = static_cast<torch::ScalarType>(ctx->saved_data["x_dtype"].toInt());
    const auto weight_dtype = static_cast<torch::ScalarType>(ctx->saved_data["weight_dtype"].toInt());
    const torch::ScalarType dtype = a.scalar_type();
    const int64_t rows = a.size(0), d = a.size(1), f = w2.size(2), tokens = rows / top_k;
    const size_t n_groups = group_sizes.size();
    variable_list grads(2 + 3 * n_groups + 5);  // x, gate, the weights, then the five non-tensor arguments

    // Sorted row i's output gradient is its token's; u_i = gate_i * g_i with g_i = silu(h1_i) * h3_i.
    const torch::Tensor dy = to_expert_order(grad_outputs[0], token, inv, top_k, dtype);
    torch::Tensor du = compat::grouped_mm(dy, w2, ends);
    const bool want_dgate = ctx->needs_input_grad(1);
    torch::Tensor dh13, dgate;
    if (fused::swiglu_backward_available(du, h13)) {
      fused::SwigluGradients fused_grads = fused::swiglu_backward(du, h13, gate, want_dgate);
      dh13 = std::move(fused_grads.dh13);
      dgate = std::move(fused_grads.dgate);
    } else {
      const torch::Tensor h1 = h13.narrow(1, 0, f), h3 = h13.narrow(1, f, f);
      const torch::Tensor s1 = torch::silu(h1);
      if (want_dgate) dgate = (du * (s1 * h3)).sum(1, false, torch::kFloat);
      const torch::Tensor dg = du.mul_(gate.to(dtype).unsqueeze(1));
      dh13 = torch::empty({rows, 2 * f}, a.options());
      torch::Tensor dh1 = dh13.narrow(1, 0, f), dh3 = dh13.narrow(1, f, f);
      torch::mul_out(dh3, dg, s1);
      torch::silu_backward_out(dh1, dg * h3, h1);
    }
    if (want_dgate) grads[1] = dgate.index_select(0, inv).view({tokens, top_k}).to(gate.scalar_type());
    if (ctx->needs_input_grad(0)) {
      const torch::Tensor da = compat::grouped_mm(dh13, w13, ends);
      grads[0] = combine(da, inv, top_k, x_dtype);
    }
    if (trainable == 0) return grads;

    // Weight gradients of the leading (trainable) experts only, in the parameters' dtype (fp32 masters: widened);
    // an expert that received no row gets zeros (the native kernel leaves its block unspecified).
    const torch::Tensor lead = ends.slice(0, 0, trainable);
    // ATen fallback: t with the blocks of experts without rows zeroed, in the parameters' dtype.
    auto zeroed_where_unused = [&](const torch::Tensor& t) {
      const torch::Tensor previous = torch::cat({torch::zeros({1}, lead.options()), lead.slice(0, 0, trainable - 1)});
      const torch::Tensor used = lead.gt(previous).view({trainable, 1, 1});
      return torch::where(used, t, torch::zeros({1, 1, 1}, t.options().dtype(weight_dtype)));
    };
    torch::Tensor dw1, dw3, dw2;
    // ExpertGradients::kGemmDtype: set as .grad by set_or_add_grad, not returned to autograd (which would widen
    // them), unless the backward itself is being differentiated (create_graph).
    const bool set_grads = ctx->saved_data["set_gemm_dtype_grads"].toBool() && !torch::GradMode::is_enabled();
    if (weight_dtype == dtype || set_grads) {
      // Each gradient in the compute dtype straight from its own GEMM (dh1 and dh3 are strided halves of dh13), then
      // only the blocks of experts without rows zeroed; no split or widening pass. (Without the zeroing kernel the
      // ATen fallback returns them in the parameters' dtype.)
      dw1 = compat::grouped_mm_weight_grad(dh13.narrow(1, 0, f), a, lead);
      dw3 = compat::grouped_mm_weight_grad(dh13.narrow(1, f, f), a, lead);
      dw2 = compat::grouped_mm_weight_grad(dy, u, lead);
      for (torch::Tensor* grad : {&dw1, &dw3, &dw2}) {
        if (fused::widen_available(*grad)) fused::zero_empty_experts(*grad, lead);
        else *grad = zeroed_where_unused(*grad);
      }
    } else {
      // fp32 masters: one GEMM for w1 and w3 together, split and widened to fp32 in one pass.
      const torch::Tensor dw13 = compat::grouped_mm_weight_grad(dh13, a, lead);
      const torch::Tensor dw2_compute = compat::grouped_mm_weight_grad(dy, u, lead);
      const bool widen_dtype = weight_dtype == torch::kFloat || weight_dtype == torch::kBFloat16;
      if (widen_dtype && fused::widen_available(dw13) && fused::widen_available(dw2_compute)) {
        std::tie(dw1, dw3) = fused::widen_expert_gradients(dw13, lead, f, weight_dtype);
        dw2 = fused::widen_expert_gradients(dw2_compute, lead, d, weight_dtype).first;
      } else {
        dw1 = zeroed_where_unused(dw13.narrow(1, 0, f));
        dw3 = zeroed_where_unused(dw13.narrow(1, f, f));
        dw2 = zeroed_where_unused(dw2_compute);
      }
    }
    const std::vector<torch::Tensor> weights = set_grads ? ctx->saved_data["weights"].toTensorVector()
                                                         : std::vector<torch::Tensor>();
    const std::array<const torch::Tensor*, 3> per_weight{&dw1, &dw3, &dw2};
    for (size_t g = 0; g < n_groups; ++g) {
      const int64_t first = key_first[g], count = group_sizes[g];
      if (first >= trainable) continue;
      for (size_t i = 0; i < 3; ++i) {
        const size_t slot = 2 + 3 * g + i;
        if (!ctx->needs_input_grad(slot)) continue;
        const torch::Tensor grad = per_weight[i]->narrow(0, first, count);
        if (set_grads) set_or_add_grad(weights[3 * g + i], grad);
        else grads[slot] = grad;
      }
    }
    return grads;
  }
};

torch::Tensor run_grouped(const torch::Tensor& x, const torch::Tensor& expert_index, const torch::Tensor& gate,
                          const std::vector<GroupWeights>& groups, ExpertStackCache* cache,
                          torch::ScalarType out_dtype, ExpertGradients gradients) {
  const DispatchPlan plan = plan_dispatch(expert_index, gate.detach(), groups);
  std::vector<torch::Tensor> weights;
  for (const GroupWeights& group : groups) {
    weights.push_back(group.w1);
    weights.push_back(group.w3);
    weights.push_back(group.w2);
  }
  return GroupedExperts::apply(x, gate, torch::TensorList(weights), &plan, compat::gemm_dtype(x), cache,
                               out_dtype, gradients)[0];
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

ExpertBackend resolve_expert_backend(ExpertBackend requested, const torch::Tensor& x,
                                     const std::vector<GroupWeights>& groups) {
  if (requested != ExpertBackend::kAuto) return requested;
  if (!compat::has_native_grouped_mm(x.device(), compat::gemm_dtype(x))) return ExpertBackend::kLoop;
  int64_t experts = 0;
  for (const GroupWeights& group : groups) {
    if (group.w1.size(1) % 8 != 0 || group.w1.size(2) % 8 != 0) return ExpertBackend::kLoop;
    experts += group.w1.size(0);
  }
  return experts < 1024 ? ExpertBackend::kGrouped : ExpertBackend::kLoop;
}

torch::Tensor run_experts(const torch::Tensor& x, const torch::Tensor& expert_index, const torch::Tensor& gate,
                          const torch::Tensor& counts, const std::vector<GroupWeights>& groups, ExpertBackend backend,
                          ExpertStackCache* cache, compat::Optional<torch::ScalarType> out_dtype,
                          ExpertGradients gradients) {
  TORCH_CHECK(x.dim() == 2 && expert_index.dim() == 2 && expert_index.size(0) == x.size(0),
              "run_experts: expected x [N, d] and expert_index [N, k]");
  TORCH_CHECK(gate.sizes() == expert_index.sizes(), "run_experts: gate must match expert_index");
  TORCH_CHECK(!groups.empty(), "run_experts: no expert groups");
  const torch::ScalarType y_dtype = out_dtype.value_or(x.scalar_type());
  if (x.size(0) == 0) return torch::zeros(x.sizes(), x.options().dtype(y_dtype));
  if (resolve_expert_backend(backend, x, groups) == ExpertBackend::kGrouped) {
    return run_grouped(x, expert_index, gate, groups, cache, y_dtype, gradients);
  }
  // Under autocast, with an output wider than x (bf16 normed rows in, the fp32 stream out), the loop takes x widened:
  // its GEMMs cast it back to the same bf16 values, and x's gradient (each token's k contributions, one per expert
  // slice) is summed in the output's dtype and rounded to x's once, as the grouped path's combine does.
  const bool widen = y_dtype != x.scalar_type() && compat::autocast_enabled(x.device().type()) &&
                     c10::promoteTypes(x.scalar_type(), y_dtype) == y_dtype;
  return run_loop(widen ? x.to(y_dtype) : x, expert_index, gate, counts, groups, y_dtype);
}

}  // namespace grove::model
