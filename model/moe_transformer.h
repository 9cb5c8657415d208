// The Grove language model: a Mixtral-style MoE decoder whose MoE layers grow expert groups over a run's phases.
// token embedding -> n_layers x DecoderLayer -> final RMSNorm -> LM head (tied to the embedding when configured).
// Parameter names are stable and are the checkpoint's tensor names:
//   embed, layers.<i>.attn_norm, layers.<i>.attn.{q,k,v,o}_proj, layers.<i>.moe_norm,
//   layers.<i>.moe.groups.<g>.{w1,w3,w2,gate_weight,gate_bias}, final_norm, lm_head (absent when tied).
// Every layer has the same group layout (growth appends one group to all of them).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/decoder_layer.h"
#include "model/expert_dispatch.h"
#include "model/model_config.h"
#include "model/torch_compat.h"

namespace grove::model {

// Every layer's attention keys and values so far, for sampling one token at a time (generated rehearsal) without
// recomputing the prefix. Empty before the first forward.
struct KeysValuesCache {
  std::vector<LayerKeysValues> layers;
  int64_t length() const { return layers.empty() ? 0 : layers.front().length(); }
};

struct ForwardOptions {
  bool collect_routing = false;  // fill ForwardOutput::routing_counts
  ExpertBackend backend = ExpertBackend::kAuto;
  compat::Optional<at::Generator> noise_generator;  // router noise in training mode; device default when absent
  ExpertGradients expert_gradients = ExpertGradients::kParameterDtype;  // model/expert_dispatch.h
  // When set, receive the inputs of the linear maps that continual training constrains, with autograd history:
  // each layer's router input (the MoE block's normed rows, [B*T, d]) and attention input (the attention block's
  // normed rows, [B, T, d]), and the LM head's input (the final normed hidden state, [B, T, d]). The
  // routing-isolation loss and the distribution sketches read them.
  std::vector<torch::Tensor>* router_inputs = nullptr;
  std::vector<torch::Tensor>* attention_inputs = nullptr;
  torch::Tensor* head_input = nullptr;
  // Incremental decoding: when set, `tokens` continue the sequences whose keys and values the cache holds (one
  // token at a time once it holds any), at positions after them, and their keys and values are appended.
  KeysValuesCache* cache = nullptr;
};

struct ForwardOutput {
  torch::Tensor logits;             // [B, T, V]
  torch::Tensor aux_loss;           // load_balance_weight * load_balance_loss + z_loss_weight * z_loss
  torch::Tensor load_balance_loss;  // mean over layers
  torch::Tensor z_loss;             // mean over layers
  torch::Tensor routing_counts;     // [L, E_total] int64 (token, k) assignments, when collect_routing
};

// Which parameters train in a phase. The trained group's experts always train (TrainablePolicy::trained_group: the
// newest unless set).
enum class GatePolicy { kNewRows, kAll, kFrozen };  // router rows: the trained group's only | every group's | none
// Shared weights: attention, norms, embedding, LM head. kNewTokenRows leaves them frozen but the embedding and the
// LM head, so that the caller can train the rows of tokens earlier phases never saw (and must keep the others).
// kOrthogonal also trains the attention's q, k and v projections, for a caller that keeps each update off the
// input directions earlier distributions use (norms and o_proj stay frozen).
enum class SharedPolicy { kFrozen, kTrainable, kNewTokenRows, kOrthogonal };
// kNewest ("newest" in YAMLs): one group trains, the others are frozen; kAll: every group trains (finetune-style
// strategies).
enum class ExpertPolicy { kNewest, kAll };

struct TrainablePolicy {
  GatePolicy gate = GatePolicy::kNewRows;
  SharedPolicy shared = SharedPolicy::kFrozen;
  ExpertPolicy experts = ExpertPolicy::kNewest;
  // The group that trains under kNewest, and whose router rows train under kNewRows: a phase that grew trains its
  // new group, one that did not the group of its most similar earlier distribution (orchestrator/similar_group.h).
  // Unset: the newest group.
  std::optional<int64_t> trained_group;
  // The embedding and the LM head train even where `shared` freezes them: the caller keeps their old rows as they
  // were and only the rows vocabulary growth appended learn (orchestrator/token_rows.h).
  bool new_vocabulary_rows = false;
};

// Names as in experiment YAMLs ("new_rows", "all", "frozen", "trainable", "newest"); parse_* throw ConfigError
// naming `key` and the valid values.
std::string gate_policy_name(GatePolicy policy);
std::string shared_policy_name(SharedPolicy policy);
std::string expert_policy_name(ExpertPolicy policy);
GatePolicy parse_gate_policy(const std::string& text, const std::string& key);
SharedPolicy parse_shared_policy(const std::string& text, const std::string& key);
ExpertPolicy parse_expert_policy(const std::string& text, const std::string& key);

// The logit of an output a model may not produce (limit_output_vocabulary): its softmax probability is exactly 0.
inline constexpr double kImpossibleLogit = -1e4;

class MoeTransformer : public torch::nn::Module {
 public:
  // A base model: validates the config (ConfigError), one group of config.n_experts experts per layer, parameters
  // initialised deterministically from config.seed.
  explicit MoeTransformer(ModelConfig config);
  // A model with the given group layout (sizes of each layer's groups, in order); `initialise = false` leaves the
  // parameters uninitialised for a checkpoint or a copy to fill.
  MoeTransformer(ModelConfig config, const std::vector<int64_t>& group_sizes, bool initialise);

  const ModelConfig& config() const { return config_; }

  // tokens: [B, T] int64 with T <= max_seq_len.
  ForwardOutput forward(const torch::Tensor& tokens, const ForwardOptions& options = {});

  int64_t n_layers() const { return static_cast<int64_t>(layers_.size()); }
  DecoderLayerImpl& layer(int64_t index) { return *layers_.at(static_cast<size_t>(index)); }
  const DecoderLayerImpl& layer(int64_t index) const { return *layers_.at(static_cast<size_t>(index)); }
  const std::vector<int64_t>& group_sizes() const { return group_sizes_; }
  int64_t n_experts_per_layer() const;
  const torch::Tensor& embedding() const { return embed_; }  // [V, d]
  const torch::Tensor& final_norm() const { return final_norm_; }
  const torch::Tensor& lm_head() const { return config_.tie_embeddings ? embed_ : lm_head_; }  // [V, d]

  // Appends a group of `n_experts` uninitialised experts to every layer (growth fills them); returns its index.
  size_t append_group(int64_t n_experts);

  // Appends rows to the embedding and (untied) the LM head, raising config().vocab_size: vocabulary growth
  // (model/vocabulary_growth.h). Existing rows, and so every old id, are unchanged.
  void append_vocabulary(const torch::Tensor& embed_rows, const torch::Tensor& head_rows);
  // Makes ids >= n impossible outputs (logit kImpossibleLogit) while every id stays a valid input: a teacher grown
  // to a phase's vocabulary reads the new pieces but predicts only what it knew. 0 (the default): no limit.
  void limit_output_vocabulary(int64_t n);

  // Sets requires_grad on every parameter according to `policy` (see TrainablePolicy).
  void apply_trainable_policy(const TrainablePolicy& policy);
  // Exactly the parameters with requires_grad, in named_parameters() order: what the optimizer must see.
  std::vector<torch::Tensor> trainable_parameters() const;
  std::vector<std::pair<std::string, torch::Tensor>> named_trainable_parameters() const;

  int64_t parameter_count() const;
  // Parameters on one token's compute path: every shared parameter (attention, norms, embedding, LM head) plus
  // top_k experts per layer. Router rows are excluded (they grow with the number of experts, not with a token's
  // FFN compute), so growth leaves this number unchanged; router_parameter_count() reports them.
  int64_t active_parameters_per_token() const;
  int64_t router_parameter_count() const;

  // A deep copy (config, layout, values, requires_grad flags, training mode) on `device` (default: this model's).
  std::shared_ptr<MoeTransformer> clone_model(const compat::Optional<torch::Device>& device = compat::kNullopt) const;
  std::shared_ptr<torch::nn::Module> clone(
      const compat::Optional<torch::Device>& device = compat::kNullopt) const override;

  torch::Device device() const { return embed_.device(); }

 private:
  void build(const std::vector<int64_t>& group_sizes);
  void initialise_all();

  ModelConfig config_;
  std::vector<int64_t> group_sizes_;
  int64_t output_vocabulary_ = 0;
  torch::Tensor embed_, final_norm_, lm_head_;
  torch::nn::ModuleList layer_list_{nullptr};
  std::vector<DecoderLayer> layers_;
};

// The deterministic initial value of the parameter called `name` (a model parameter name as above) for `config`,
// drawn from a generator seeded by (seed, name): norms 1, router bias 0, output projections (o_proj, w2)
// N(0, init_std / sqrt(2 n_layers)), everything else N(0, init_std). Growth's random init uses it with its own seed.
void initialise_parameter(const std::string& name, const torch::Tensor& tensor, const ModelConfig& config,
                          uint64_t seed);

}  // namespace grove::model
