// The compute-dtype stacks of one MoE layer's expert weights, kept from one training forward to the next by the
// grouped path (model/expert_dispatch.cpp). Every forward stacks the layer's w1, w3 and w2 into one GEMM operand per
// weight (bf16 under autocast); a frozen group's part of those stacks does not change during a phase, so stacking it
// again each step is pure memory traffic: 6 bytes per frozen parameter, about 4.5 ms of an H200 step with 56 frozen
// experts per layer (docs/PERFORMANCE.md). With a cache the layer restacks only its trainable groups and any frozen
// group whose tensors changed since (another tensor, another storage, or a bumped version counter).
//
// When the cached stacks are written in place: only when nothing but the cache holds them (no autograd context of an
// earlier forward still saves them for its backward); otherwise the forward takes copies and the holder keeps the old
// ones. Forwards without gradients (evaluation) neither read nor write the cache. Under CUDA graph capture the cached
// stacks are used only if the capture can keep them alive as long as the graph (model/cuda_graph.h), since its
// replays write into them.
// Plain data: the logic is stack_weights in expert_dispatch.cpp. MoeLayer owns one per layer and empties it on a
// forward in evaluation mode (eval()), which frees its memory while the model is evaluated.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace grove::model {

// What identifies a tensor's contents without reading them.
struct TensorStamp {
  const void* impl = nullptr;
  const void* data = nullptr;
  int64_t version = -1;

  static TensorStamp of(const torch::Tensor& t) {
    return {t.unsafeGetTensorImpl(), t.data_ptr(), static_cast<int64_t>(t._version())};
  }
  bool operator==(const TensorStamp&) const = default;
};

struct ExpertStackCache {
  torch::Tensor w13;                                // [E, 2f, d] in the compute dtype
  torch::Tensor w2;                                 // [E, d, f]
  std::vector<int64_t> layout;                      // each group's first stack row (key order), then trainable experts
  std::vector<std::array<TensorStamp, 3>> stamps;   // w1, w3, w2 of each group as last stacked
};

}  // namespace grove::model
