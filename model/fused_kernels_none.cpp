// The fused kernels' interfaces (fused_experts.h, fused_router.h, fused_rotary.h, fused_cross_entropy.h,
// fused_adamw.h, fused_rms_norm.h) for builds without CUDA: nothing is available, and a call is a programming error.
#include <stdexcept>

#include "model/fused_adamw.h"
#include "model/fused_cross_entropy.h"
#include "model/fused_rotary.h"
#include "model/fused_experts.h"
#include "model/fused_rms_norm.h"
#include "model/fused_router.h"

namespace grove::model::fused {
namespace {

[[noreturn]] void unavailable(const char* what) {
  throw std::logic_error(std::string(what) + ": the fused kernels need a LibTorch build with CUDA");
}

}  // namespace

bool swiglu_available(const torch::Tensor&) { return false; }
bool swiglu_backward_available(const torch::Tensor&, const torch::Tensor&) { return false; }
bool widen_available(const torch::Tensor&) { return false; }
bool qkv_heads_available(const torch::Tensor&, int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) {
  return false;
}
bool spread_available(const torch::Tensor&) { return false; }
bool combine_available(const torch::Tensor&) { return false; }
bool stack_available(const torch::Tensor&) { return false; }
bool dispatch_plan_available(const torch::Tensor&, const torch::Tensor&, int64_t, size_t) { return false; }
bool adamw_available(const std::vector<AdamwParameter>&) { return false; }
bool router_available(const torch::Tensor&, int64_t) { return false; }
bool add_rms_norm_available(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, torch::ScalarType) {
  return false;
}

AddNormed add_rms_norm(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, double, torch::ScalarType) {
  unavailable("fused::add_rms_norm");
}

Routing route(const torch::Tensor&, const torch::Tensor&, int64_t) { unavailable("fused::route"); }

torch::Tensor spread_rows_to_bf16(const torch::Tensor&, const torch::Tensor&, int64_t) {
  unavailable("fused::spread_rows_to_bf16");
}

torch::Tensor combine_rows(const torch::Tensor&, const torch::Tensor&, int64_t, torch::ScalarType) {
  unavailable("fused::combine_rows");
}

void cast_into_stack(const torch::Tensor&, torch::Tensor&, int64_t, int64_t) { unavailable("fused::cast_into_stack"); }

DispatchOrder dispatch_plan(const torch::Tensor&, const torch::Tensor&, const std::vector<SlotRange>&, int64_t) {
  unavailable("fused::dispatch_plan");
}
bool cross_entropy_available(const torch::Tensor&) { return false; }

QkvHeads qkv_heads(const torch::Tensor&, int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) {
  unavailable("fused::qkv_heads");
}

torch::Tensor cross_entropy(const torch::Tensor&, const torch::Tensor&) { unavailable("fused::cross_entropy"); }

torch::Tensor swiglu_forward(const torch::Tensor&, const torch::Tensor&) { unavailable("fused::swiglu_forward"); }

SwigluGradients swiglu_backward(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, bool) {
  unavailable("fused::swiglu_backward");
}

void zero_empty_experts(torch::Tensor&, const torch::Tensor&) { unavailable("fused::zero_empty_experts"); }

std::pair<torch::Tensor, torch::Tensor> widen_expert_gradients(const torch::Tensor&, const torch::Tensor&, int64_t,
                                                               torch::ScalarType) {
  unavailable("fused::widen_expert_gradients");
}

void adamw_update(const std::vector<AdamwParameter>&, const AdamwHyper&, const torch::Tensor&) {
  unavailable("fused::adamw_update");
}

}  // namespace grove::model::fused
