#include "model/attention.h"

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

torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryTables& tables) {
  const int64_t half = x.size(-1) / 2;
  const torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  const torch::Tensor cos = tables.cos.to(x.scalar_type());
  const torch::Tensor sin = tables.sin.to(x.scalar_type());
  return x * cos + rotated * sin;
}

AttentionImpl::AttentionImpl(const ModelConfig& config)
    : n_heads_(config.n_heads), n_kv_heads_(config.n_kv_heads), head_dim_(config.head_dim) {
  q_proj_ = register_parameter("q_proj", torch::empty({n_heads_ * head_dim_, config.d_model}));
  k_proj_ = register_parameter("k_proj", torch::empty({n_kv_heads_ * head_dim_, config.d_model}));
  v_proj_ = register_parameter("v_proj", torch::empty({n_kv_heads_ * head_dim_, config.d_model}));
  o_proj_ = register_parameter("o_proj", torch::empty({config.d_model, n_heads_ * head_dim_}));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const RotaryTables& rotary) {
  const int64_t batch = x.size(0);
  const int64_t length = x.size(1);
  auto heads = [&](const torch::Tensor& projection, int64_t n) {
    return torch::matmul(x, projection.t()).view({batch, length, n, head_dim_}).transpose(1, 2);
  };
  torch::Tensor q = apply_rotary(heads(q_proj_, n_heads_), rotary);
  torch::Tensor k = apply_rotary(heads(k_proj_, n_kv_heads_), rotary);
  torch::Tensor v = heads(v_proj_, n_kv_heads_);
  if (n_kv_heads_ != n_heads_) {
    const int64_t repeat = n_heads_ / n_kv_heads_;
    k = k.repeat_interleave(repeat, 1);
    v = v.repeat_interleave(repeat, 1);
  }
  const torch::Tensor attended = compat::scaled_dot_product_attention(q, k, v, /*is_causal=*/true);
  return torch::matmul(attended.transpose(1, 2).reshape({batch, length, n_heads_ * head_dim_}), o_proj_.t());
}

}  // namespace grove::model
