#include "model/decoder_layer.h"

#include "model/rms_norm.h"

namespace grove::model {

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& config) : norm_eps_(config.norm_eps) {
  attn_norm_ = register_parameter("attn_norm", torch::ones({config.d_model}));
  attention_ = register_module("attn", Attention(config));
  moe_norm_ = register_parameter("moe_norm", torch::ones({config.d_model}));
  moe_ = register_module("moe", MoeLayer(config.top_k, config.router_noise_std));
}

DecoderOutput DecoderLayerImpl::forward(const torch::Tensor& x, const RotaryTables& rotary,
                                        const MoeOptions& options) {
  const torch::Tensor h = x + attention_->forward(rms_norm(x, attn_norm_, norm_eps_), rotary);
  const torch::Tensor normed = rms_norm(h, moe_norm_, norm_eps_);
  MoeOutput moe = moe_->forward(normed.reshape({-1, normed.size(-1)}), options);
  return {h + moe.y.view(h.sizes()), moe.load_balance_loss, moe.z_loss, moe.counts};
}

}  // namespace grove::model
