// Fused kernels for the grouped expert path (model/expert_dispatch.cpp) on CUDA: SwiGLU forward and backward in one
// pass each, and the widening of the experts' bf16 weight gradients to their fp32 parameters' gradients. Without
// them the same work is five ATen kernels forward and about ten backward, most of them on strided halves of h13
// (non-vectorised), which cost more GPU time than the expert GEMMs themselves (docs/PERFORMANCE.md). Also the
// dispatch's data movement: spreading token rows into expert order (cast to bf16), the fp32 combine of each token's
// k outputs, and the per-step bf16 stacking of the fp32 expert weights, each one kernel instead of two or three.
// Builds with CUDA compile fused_experts_cuda.cpp and expert_kernels.cu; others fused_kernels_none.cpp, where
// nothing is available and the dispatch keeps its ATen formulation.
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "model/fused_switch.h"

namespace grove::model::fused {

// Whether the fused kernels may run on these operands: a CUDA build, the switch on (fused_switch.h), CUDA bf16
// contiguous tensors with 16-byte aligned storage, and a width that is a multiple of 8.
bool swiglu_available(const torch::Tensor& h13);
bool swiglu_backward_available(const torch::Tensor& du, const torch::Tensor& h13);  // du [rows, f] as well
bool widen_available(const torch::Tensor& grads);

// u = gate * silu(h1) * h3 for h13 = [h1 | h3] of shape [rows, 2f]; gate [rows], any floating dtype.
torch::Tensor swiglu_forward(const torch::Tensor& h13, const torch::Tensor& gate);

struct SwigluGradients {
  torch::Tensor dh13;   // [rows, 2f] bf16
  torch::Tensor dgate;  // [rows] fp32; undefined unless asked for
};
SwigluGradients swiglu_backward(const torch::Tensor& du, const torch::Tensor& h13, const torch::Tensor& gate,
                                bool want_dgate);

// grads [experts, rows, cols] bf16 from one grouped GEMM with int32 row ends `ends` [experts]: copies in out_dtype
// (fp32, or bf16 for bf16 parameters) of rows [0, split) and [split, rows) of each expert (the second undefined when
// split == rows), zeros for an expert with no rows.
std::pair<torch::Tensor, torch::Tensor> widen_expert_gradients(const torch::Tensor& grads, const torch::Tensor& ends,
                                                               int64_t split,
                                                               torch::ScalarType out_dtype = torch::kFloat);

// Zeroes, in place, the gradient blocks grads[e] (bf16 [experts, rows, cols], dense) of the experts that received no
// row (int32 cumulative row ends `ends` [experts]). Available under the same conditions as widening.
void zero_empty_experts(torch::Tensor& grads, const torch::Tensor& ends);

// Whether the data-movement kernels may run: CUDA, the switch on, dense 16-byte aligned operands whose row width is a
// multiple of 8; spread reads fp32 or bf16 [*, cols], combine reads bf16 [*, cols], stacking reads fp32 or bf16
// [experts, rows, cols].
bool spread_available(const torch::Tensor& src);
bool combine_available(const torch::Tensor& src);
bool stack_available(const torch::Tensor& weights);

// bf16 [tokens * k, cols]: row inv[n * k + j] is src[n] (src [tokens, cols]; inv int64 [tokens * k] on src's
// device, a permutation: the dispatch plan's). The same rows as gathering src by the plan's `token`, read once each.
torch::Tensor spread_rows_to_bf16(const torch::Tensor& src, const torch::Tensor& inv, int64_t k);

// [index.numel() / k, cols] in out_dtype (fp32 or bf16): row n is the fp32 sum over j < k of src[index[n * k + j]].
torch::Tensor combine_rows(const torch::Tensor& src, const torch::Tensor& index, int64_t k,
                           torch::ScalarType out_dtype = torch::kFloat);

// The dispatch plan (model/dispatch_plan_kernels.h): the (token, k) assignments sorted stably by expert key, in three
// kernels instead of ATen's 64-bit radix sort and the kernels around it. Available on CUDA with the switch on for
// int64 expert_index [tokens, k] with at least one assignment and fewer than 2^31, an fp32 gate of the same shape on
// its device, 1 to 1024 experts and at most 16 groups.
struct SlotRange {
  int64_t first_slot = 0;  // the group's first global slot
  int64_t size = 0;        // its experts
  int64_t first_key = 0;   // the sort key of its first expert
};
struct DispatchOrder {
  torch::Tensor token;  // [M] int64: source token of sorted row p
  torch::Tensor inv;    // [M] int64: sorted row of assignment n * k + j
  torch::Tensor gate;   // [M] fp32: gate of sorted row p
  torch::Tensor ends;   // [experts] int32: rows with key <= e
};
bool dispatch_plan_available(const torch::Tensor& expert_index, const torch::Tensor& gate, int64_t experts,
                             size_t groups);
DispatchOrder dispatch_plan(const torch::Tensor& expert_index, const torch::Tensor& gate,
                            const std::vector<SlotRange>& groups, int64_t experts);

// Casts (or copies, when bf16) weights [experts, rows, cols] into the bf16 stack dst [*, dst_rows, cols]: expert e's row r lands in
// dst[first_expert + e, row_offset + r].
void cast_into_stack(const torch::Tensor& weights, torch::Tensor& dst, int64_t first_expert, int64_t row_offset);

}  // namespace grove::model::fused
