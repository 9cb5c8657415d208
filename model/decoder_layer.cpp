#include "model/decoder_layer.h"

#include "model/rms_norm.h"

namespace grove::model {

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& config) : norm_eps_(config.norm_eps) {
  attn_norm_ = register_parameter("attn_norm", torch::ones({config.d_model}));
  attention_ = register_module("attn", Attention(config));
  moe_norm_ = register_parameter("moe_norm", torch::ones({config.d_model}));
  moe_ = register_module("moe", MoeLayer(config.top_k, config.router_noise_std));
}

DecoderOutput DecoderLayerImpl::forward(const torch::Tensor& residual, const torch::Tensor& delta,
                                        const RotaryTables& rotary, const MoeOptions& options,
                                        LayerKeysValues* cache) {
  // Both blocks read their normed input only through GEMMs (QKV; the router's logits and the experts'), so it is
  // normed in their dtype (bf16 under autocast: the values those GEMMs would cast it to). The MoE block's output
  // comes back in the stream's dtype: each token's k expert outputs summed in fp32, not rounded to bf16.
  const torch::ScalarType gemm_dtype = compat::gemm_dtype(residual);
  const AddNormed x = add_rms_norm(residual, delta, attn_norm_, norm_eps_, gemm_dtype);
  const AddNormed h = add_rms_norm(x.sum, attention_->forward(x.normed, rotary, cache), moe_norm_, norm_eps_, gemm_dtype);
  MoeOptions moe_options = options;
  moe_options.output_dtype = residual.scalar_type();
  const torch::Tensor rows = h.normed.reshape({-1, h.normed.size(-1)});
  MoeOutput moe = moe_->forward(rows, moe_options);
  return {h.sum, moe.y.view(h.sum.sizes()), moe.load_balance_loss, moe.z_loss, moe.counts, rows, x.normed};
}

}  // namespace grove::model
