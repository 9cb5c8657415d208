// Runs the routed experts of one MoE layer: permutes the (token, k) assignments by expert on the device, runs the
// SwiGLU experts and combines the gate-weighted outputs per token.
//   grouped: every expert of the layer in one grouped GEMM per weight (at::_grouped_mm on CUDA in bf16 through
//            compat::grouped_mm), with a hand-written backward. Assignments are sorted with the trainable groups'
//            experts first, so each expert's rows are one contiguous block (no masking, no host synchronisation) and
//            the weight gradients come from one grouped GEMM over the trainable blocks only.
//   loop:    the per-expert loop on host-known counts (CPU, LibTorch 1.13, fp32 on CUDA); the reference path.
// A group whose weights do not require grad costs no weight-gradient GEMM on either path.
#pragma once

#include <torch/torch.h>

#include <string_view>
#include <vector>

#include "model/expert_stack_cache.h"
#include "model/torch_compat.h"

namespace grove::model {

enum class ExpertBackend { kAuto, kGrouped, kLoop };

std::string_view expert_backend_name(ExpertBackend backend);

// How the grouped path hands over the weight gradients of experts whose parameters are wider than its GEMMs' dtype
// (fp32 masters under bf16 autocast). The weight-gradient GEMMs write bf16 either way.
enum class ExpertGradients {
  // Through autograd, widened to the parameters' dtype by one more pass over them: what any consumer can read.
  kParameterDtype,
  // Set as the parameters' .grad directly in the GEMMs' dtype (bf16): no widening pass, and half the bytes for the
  // optimizer to read. For a consumer that reads bf16 gradients of fp32 parameters (orch::AdamW does). The values
  // are kParameterDtype's up to the order of the GEMMs' sums (w1's and w3's gradients come from a GEMM each rather
  // than one together, so a value may round to the neighbouring bf16). Like AccumulateGrad the backward adds into a
  // .grad already there, in the parameter's dtype. Not through autograd, so a tensor hook or torch::autograd::grad
  // sees no gradient for these weights, and an ordinary autograd gradient added to a bf16 .grad (a kParameterDtype
  // backward before the gradients are reset) adds in bf16: reset the gradients between the two. Under create_graph
  // it falls back to kParameterDtype.
  kGemmDtype,
};

// The stacked weights of one group and the global slot of its first expert.
struct GroupWeights {
  torch::Tensor w1;  // [E_g, f, d]
  torch::Tensor w3;  // [E_g, f, d]
  torch::Tensor w2;  // [E_g, d, f]
  int64_t first_slot = 0;
};

// kAuto becomes kGrouped where ATen's grouped GEMM runs natively for x's device and compute dtype (CUDA, bf16,
// LibTorch >= 2.8), every width is a multiple of 8 (its 16-byte stride rule) and the layer has fewer than 1024
// experts (its group limit), kLoop otherwise.
ExpertBackend resolve_expert_backend(ExpertBackend requested, const torch::Tensor& x,
                                     const std::vector<GroupWeights>& groups);

// `x`: [N, d]; `expert_index`: [N, k] global slots; `gate`: [N, k]; `counts`: [E_total] int64 assignments per slot
// (the router's). Returns [N, d] in `out_dtype` (x's when absent): sum over k of gate * SwiGLU_expert(x), summed in
// fp32 on the grouped path and in out_dtype on the loop path; x's gradient likewise, rounded to x's dtype once.
// `cache` (optional, one per layer): the grouped path's weight stacks kept between training forwards
// (model/expert_stack_cache.h). `gradients`: see ExpertGradients (the loop path always goes through autograd).
torch::Tensor run_experts(const torch::Tensor& x, const torch::Tensor& expert_index, const torch::Tensor& gate,
                          const torch::Tensor& counts, const std::vector<GroupWeights>& groups, ExpertBackend backend,
                          ExpertStackCache* cache = nullptr,
                          compat::Optional<torch::ScalarType> out_dtype = compat::kNullopt,
                          ExpertGradients gradients = ExpertGradients::kParameterDtype);

}  // namespace grove::model
