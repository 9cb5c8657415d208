#include "model/attention.h"

#include "model/fused_rotary.h"
#include "model/torch_compat.h"

namespace grove::model {

RotaryTables rotary_tables(int64_t length, int64_t head_dim, double theta, const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const torch::Tensor exponent = torch::arange(0, head_dim, 2, options.dtype(torch::kLong)).to(torch::kFloat) /
                                 static_cast<double>(head_dim);
  const torch::Tensor inv_freq = 1.0 / torch::pow(torch::full({}, theta, options), exponent);
  const torch::Tensor angles = torch::outer(torch::arange(length, options), inv_freq);
  const torch::Tensor both = torch::cat({angles, angles}, -1);
  return {both.cos(), both.sin()};
}

namespace {

// x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x2, x1), written as x * cos + swap(x) * signed_sin where
// swap exchanges the halves (one flip, whose backward is one flip) and signed_sin = cat(-sin1, sin2): three kernels
// forward instead of five, and no slice-and-pad in the backward. `cos`, `sin`: [T, D] broadcast by the caller's view.
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const torch::Tensor signed_sin = torch::cat({-sin.narrow(-1, 0, half), sin.narrow(-1, half, half)}, -1);
  std::vector<int64_t> split(x.sizes().begin(), x.sizes().end() - 1);
  split.insert(split.end(), {2, half});
  const torch::Tensor swapped = x.reshape(split).flip({-2}).flatten(-2);
  return torch::addcmul(x * cos.to(x.scalar_type()), swapped, signed_sin.to(x.scalar_type()));
}

}  // namespace

torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryTables& tables) {
  return rotate(x, tables.cos, tables.sin);
}

AttentionImpl::AttentionImpl(const ModelConfig& config)
    : n_heads_(config.n_heads), n_kv_heads_(config.n_kv_heads), head_dim_(config.head_dim) {
  q_proj_ = register_parameter("q_proj", torch::empty({n_heads_ * head_dim_, config.d_model}));
  k_proj_ = register_parameter("k_proj", torch::empty({n_kv_heads_ * head_dim_, config.d_model}));
  v_proj_ = register_parameter("v_proj", torch::empty({n_kv_heads_ * head_dim_, config.d_model}));
  o_proj_ = register_parameter("o_proj", torch::empty({config.d_model, n_heads_ * head_dim_}));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, LayerKeysValues* cache) {
  const int64_t batch = x.size(0);
  const int64_t length = x.size(1);
  // One projection for q, k and v (x is read and cast once). On CUDA in bf16 one kernel each way hands out the q, k
  // and v heads with rotary applied (fused_rotary.h); otherwise split (whose backward is one concatenation) and
  // rotary on q and k together in [B, T, heads, D] layout.
  const torch::Tensor qkv = torch::matmul(x, torch::cat({q_proj_, k_proj_, v_proj_}, 0).t());
  torch::Tensor q, k, v;
  if (fused::qkv_heads_available(qkv, n_heads_, n_kv_heads_, rotary.cos, rotary.sin)) {
    fused::QkvHeads heads = fused::qkv_heads(qkv, n_heads_, n_kv_heads_, rotary.cos, rotary.sin);
    q = heads.q.transpose(1, 2);
    k = heads.k.transpose(1, 2);
    v = heads.v.transpose(1, 2);
  } else {
    const auto pieces = qkv.split_with_sizes({(n_heads_ + n_kv_heads_) * head_dim_, n_kv_heads_ * head_dim_}, -1);
    const torch::Tensor qk = pieces[0].view({batch, length, n_heads_ + n_kv_heads_, head_dim_});
    const torch::Tensor rotated = rotate(qk, rotary.cos.unsqueeze(1), rotary.sin.unsqueeze(1));
    const auto qk_heads = rotated.split_with_sizes({n_heads_, n_kv_heads_}, 2);
    q = qk_heads[0].transpose(1, 2);
    k = qk_heads[1].transpose(1, 2);
    v = pieces[1].view({batch, length, n_kv_heads_, head_dim_}).transpose(1, 2);
  }
  const bool causal = cache == nullptr || cache->length() == 0;
  if (cache != nullptr) {
    TORCH_CHECK(causal || length == 1, "Attention: a cached forward takes one token at a time, got ", length);
    if (!causal) {
      k = torch::cat({cache->keys, k}, 2);
      v = torch::cat({cache->values, v}, 2);
    }
    cache->keys = k;
    cache->values = v;
  }
  if (n_kv_heads_ != n_heads_) {
    const int64_t repeat = n_heads_ / n_kv_heads_;
    k = k.repeat_interleave(repeat, 1);
    v = v.repeat_interleave(repeat, 1);
  }
  const torch::Tensor attended = compat::scaled_dot_product_attention(q, k, v, /*is_causal=*/causal);
  return torch::matmul(attended.transpose(1, 2).reshape({batch, length, n_heads_ * head_dim_}), o_proj_.t());
}

}  // namespace grove::model
