// One Mixtral-style decoder layer: x + attn(rms_norm(x)), then h + moe(rms_norm(h)). The layer's input and output
// are each a residual stream and the block output still to be added to it: every residual add is done by the
// RMSNorm that reads its sum (model/rms_norm.h's add_rms_norm, one kernel each way on CUDA).
// Parameters: attn_norm [d], attn.{q,k,v,o}_proj, moe_norm [d], moe.groups.<g>.{w1,w3,w2,gate_weight,gate_bias}.
#pragma once

#include <torch/torch.h>

#include "model/attention.h"
#include "model/model_config.h"
#include "model/moe_layer.h"

namespace grove::model {

struct DecoderOutput {
  torch::Tensor residual;           // [B, T, d]: the layer's output is residual + delta
  torch::Tensor delta;              // [B, T, d]: the MoE block's output
  torch::Tensor load_balance_loss;  // scalar
  torch::Tensor z_loss;             // scalar
  torch::Tensor counts;             // [E_total] int64
  torch::Tensor router_input;       // [B*T, d]: the MoE block's normed input rows, as the router saw them
  torch::Tensor attention_input;    // [B, T, d]: the attention block's normed input
};

class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const ModelConfig& config);

  // The layer's input is residual + delta (delta undefined: residual alone, as for the first layer).
  // `cache`: the attention's keys and values for incremental decoding (AttentionImpl::forward), or null.
  DecoderOutput forward(const torch::Tensor& residual, const torch::Tensor& delta, const RotaryTables& rotary,
                        const MoeOptions& options, LayerKeysValues* cache = nullptr);

  AttentionImpl& attention() { return *attention_; }
  const AttentionImpl& attention() const { return *attention_; }
  MoeLayerImpl& moe() { return *moe_; }
  const MoeLayerImpl& moe() const { return *moe_; }
  const torch::Tensor& attn_norm() const { return attn_norm_; }
  const torch::Tensor& moe_norm() const { return moe_norm_; }

 private:
  double norm_eps_;
  torch::Tensor attn_norm_, moe_norm_;
  Attention attention_{nullptr};
  MoeLayer moe_{nullptr};
};
TORCH_MODULE(DecoderLayer);

}  // namespace grove::model
