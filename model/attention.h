// Causal self-attention with rotary position embeddings in Hugging Face's rotate-half layout (so the exported
// q_proj/k_proj need no permutation) and optional grouped-query attention (n_kv_heads < n_heads: each key/value
// head serves n_heads / n_kv_heads consecutive query heads). SDPA through compat::scaled_dot_product_attention.
#pragma once

#include <torch/torch.h>

#include "model/model_config.h"

namespace grove::model {

// cos and sin tables [T, head_dim] for positions 0..T-1, computed in fp32 as transformers does:
// inv_freq = 1 / theta^(2i / head_dim), angles duplicated over both halves.
struct RotaryTables {
  torch::Tensor cos;
  torch::Tensor sin;
};
RotaryTables rotary_tables(int64_t length, int64_t head_dim, double theta, const torch::Device& device);

// x [B, H, T, D] rotated: x * cos + rotate_half(x) * sin, with rotate_half(x) = cat(-x2, x1).
torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryTables& tables);

// One layer's keys and values so far ([B, KV, T, D] each, rotary applied; undefined before the first step), for
// incremental decoding: each forward appends its own.
struct LayerKeysValues {
  torch::Tensor keys, values;
  int64_t length() const { return keys.defined() ? keys.size(2) : 0; }
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const ModelConfig& config);

  // x: [B, T, d] -> [B, T, d]; `rotary` holds the rows of x's positions. With `cache`, x continues the cached
  // sequences (T = 1 once the cache holds anything: the new token attends to everything cached and to itself) and
  // its keys and values are appended.
  torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, LayerKeysValues* cache = nullptr);

  const torch::Tensor& q_proj() const { return q_proj_; }  // [H * D, d]
  const torch::Tensor& k_proj() const { return k_proj_; }  // [KV * D, d]
  const torch::Tensor& v_proj() const { return v_proj_; }  // [KV * D, d]
  const torch::Tensor& o_proj() const { return o_proj_; }  // [d, H * D]

 private:
  int64_t n_heads_, n_kv_heads_, head_dim_;
  torch::Tensor q_proj_, k_proj_, v_proj_, o_proj_;
};
TORCH_MODULE(Attention);

}  // namespace grove::model
