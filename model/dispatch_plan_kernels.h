// The grouped expert path's dispatch plan (model/expert_dispatch.cpp) as three small CUDA kernels: a stable counting
// sort of the (token, k) assignments by expert key, in place of ATen's radix sort over 64-bit keys (eight passes,
// each with its memset) and the five kernels around it that build the inverse order, the sorted gate and the
// experts' row ends. The result is identical: assignments sorted by key, ties in assignment order.
// Plain C++ interface, no LibTorch: the .cu file compiles with nvcc alone; model/fused_experts.h wraps it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

constexpr int kMaxPlanGroups = 16;   // expert groups per layer the kernels map by value
constexpr int kMaxPlanExperts = 1024;

// Which key each global expert slot sorts under: slot s of group g (first_slot[g] <= s < first_slot[g] + size[g])
// has key s - first_slot[g] + first_key[g]; a slot outside every group keeps its number. Passed by value, so a CUDA
// graph captures it with the launch.
struct SlotKeyMap {
  int groups = 0;
  int64_t first_slot[kMaxPlanGroups] = {};
  int64_t size[kMaxPlanGroups] = {};
  int64_t first_key[kMaxPlanGroups] = {};
};

// int32 values of scratch dispatch_plan needs for `assignments` assignments over `experts` keys.
int64_t dispatch_plan_scratch(int64_t assignments, int experts);

// slots [assignments] int64 (row-major [tokens, top_k]) and gate [assignments] fp32. Writes, with p the sorted
// position of assignment i: token[p] = i / top_k, inv[i] = p, gate_sorted[p] = gate[i], and ends[e] = the number of
// assignments with key <= e (int32, the grouped GEMM's offsets). Requires 1 <= experts <= kMaxPlanExperts,
// 1 <= assignments < 2^31 and every key in [0, experts); an assignment whose key is outside is left out.
cudaError_t dispatch_plan(const int64_t* slots, const float* gate, int64_t assignments, int top_k, int experts,
                          const SlotKeyMap& map, int32_t* scratch, int64_t* token, int64_t* inv, float* gate_sorted,
                          int32_t* ends, cudaStream_t stream);

}  // namespace grove::model::kernels
