#include "model/moe_transformer.h"

#include <fmt/format.h>

#include <cmath>

#include "common/errors.h"
#include "model/rms_norm.h"
#include "model/seeded_init.h"

namespace grove::model {
namespace {

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_group_parameter(const std::string& name) { return name.find(".moe.groups.") != std::string::npos; }

template <typename Enum, size_t N>
Enum parse_choice(const std::string& text, const std::string& key, const std::pair<const char*, Enum> (&choices)[N]) {
  std::string valid;
  for (const auto& [name, value] : choices) {
    if (text == name) return value;
    valid += (valid.empty() ? "" : ", ") + std::string(name);
  }
  throw ConfigError(fmt::format("key '{}': '{}' is not one of {}", key, text, valid));
}

constexpr std::pair<const char*, GatePolicy> kGateChoices[] = {
    {"new_rows", GatePolicy::kNewRows}, {"all", GatePolicy::kAll}, {"frozen", GatePolicy::kFrozen}};
constexpr std::pair<const char*, SharedPolicy> kSharedChoices[] = {{"frozen", SharedPolicy::kFrozen},
                                                                   {"trainable", SharedPolicy::kTrainable},
                                                                   {"new_tokens", SharedPolicy::kNewTokenRows},
                                                                   {"orthogonal", SharedPolicy::kOrthogonal}};
constexpr std::pair<const char*, ExpertPolicy> kExpertChoices[] = {{"newest", ExpertPolicy::kNewest},
                                                                   {"all", ExpertPolicy::kAll}};

template <typename Enum, size_t N>
std::string choice_name(Enum value, const std::pair<const char*, Enum> (&choices)[N]) {
  for (const auto& [name, candidate] : choices) {
    if (candidate == value) return name;
  }
  return "?";
}

}  // namespace

std::string gate_policy_name(GatePolicy policy) { return choice_name(policy, kGateChoices); }
std::string shared_policy_name(SharedPolicy policy) { return choice_name(policy, kSharedChoices); }
std::string expert_policy_name(ExpertPolicy policy) { return choice_name(policy, kExpertChoices); }
GatePolicy parse_gate_policy(const std::string& text, const std::string& key) {
  return parse_choice(text, key, kGateChoices);
}
SharedPolicy parse_shared_policy(const std::string& text, const std::string& key) {
  return parse_choice(text, key, kSharedChoices);
}
ExpertPolicy parse_expert_policy(const std::string& text, const std::string& key) {
  return parse_choice(text, key, kExpertChoices);
}

void initialise_parameter(const std::string& name, const torch::Tensor& tensor, const ModelConfig& config,
                          uint64_t seed) {
  torch::NoGradGuard no_grad;
  if (ends_with(name, "_norm")) {
    tensor.fill_(1.0);
  } else if (ends_with(name, "gate_bias")) {
    tensor.zero_();
  } else {
    const bool output_projection = ends_with(name, "o_proj") || ends_with(name, ".w2");
    const double std = output_projection ? config.init_std / std::sqrt(2.0 * static_cast<double>(config.n_layers))
                                         : config.init_std;
    fill_normal_(tensor, std, derive_seed(seed, name));
  }
}

MoeTransformer::MoeTransformer(ModelConfig config) : config_(std::move(config)) {
  config_.validate();
  build({config_.n_experts});
  initialise_all();
}

MoeTransformer::MoeTransformer(ModelConfig config, const std::vector<int64_t>& group_sizes, bool initialise)
    : config_(std::move(config)) {
  config_.validate();
  TORCH_CHECK(!group_sizes.empty(), "MoeTransformer: at least one expert group is needed");
  build(group_sizes);
  if (initialise) initialise_all();
}

void MoeTransformer::build(const std::vector<int64_t>& group_sizes) {
  embed_ = register_parameter("embed", torch::empty({config_.vocab_size, config_.d_model}));
  layer_list_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.n_layers; ++i) {
    DecoderLayer layer(config_);
    layer_list_->push_back(layer);
    layers_.push_back(std::move(layer));
  }
  final_norm_ = register_parameter("final_norm", torch::ones({config_.d_model}));
  if (!config_.tie_embeddings) lm_head_ = register_parameter("lm_head", torch::empty({config_.vocab_size, config_.d_model}));
  for (const int64_t size : group_sizes) append_group(size);
}

void MoeTransformer::initialise_all() {
  for (const auto& item : named_parameters()) initialise_parameter(item.key(), item.value(), config_, config_.seed);
}

size_t MoeTransformer::append_group(int64_t n_experts) {
  TORCH_CHECK(n_experts > 0, "MoeTransformer::append_group: n_experts must be positive");
  const auto options = embed_.options().requires_grad(false);
  for (auto& layer : layers_) {
    layer->moe().add_group(ExpertGroup(n_experts, config_.d_model, config_.d_expert, config_.router_bias, options));
  }
  group_sizes_.push_back(n_experts);
  return group_sizes_.size() - 1;
}

void MoeTransformer::append_vocabulary(const torch::Tensor& embed_rows, const torch::Tensor& head_rows) {
  TORCH_CHECK(embed_rows.dim() == 2 && embed_rows.size(1) == config_.d_model,
              "MoeTransformer::append_vocabulary: embedding rows must be [N, d_model], got ", embed_rows.sizes());
  TORCH_CHECK(config_.tie_embeddings || (head_rows.defined() && head_rows.sizes() == embed_rows.sizes()),
              "MoeTransformer::append_vocabulary: LM-head rows must match the embedding rows");
  torch::NoGradGuard no_grad;
  // set_data keeps each parameter's identity (its registration, requires_grad) while its rows grow.
  embed_.set_data(torch::cat({embed_.detach(), embed_rows.to(embed_.options().requires_grad(false))}));
  if (!config_.tie_embeddings) {
    lm_head_.set_data(torch::cat({lm_head_.detach(), head_rows.to(lm_head_.options().requires_grad(false))}));
  }
  config_.vocab_size = embed_.size(0);
}

void MoeTransformer::limit_output_vocabulary(int64_t n) {
  TORCH_CHECK(n >= 0 && n <= config_.vocab_size, "MoeTransformer::limit_output_vocabulary: ", n, " is outside 0..",
              config_.vocab_size);
  output_vocabulary_ = n;
}

int64_t MoeTransformer::n_experts_per_layer() const {
  int64_t total = 0;
  for (const int64_t size : group_sizes_) total += size;
  return total;
}

ForwardOutput MoeTransformer::forward(const torch::Tensor& tokens, const ForwardOptions& options) {
  TORCH_CHECK(tokens.dim() == 2, "MoeTransformer::forward: expected tokens [B, T], got ", tokens.sizes());
  const int64_t offset = options.cache != nullptr ? options.cache->length() : 0;
  TORCH_CHECK(offset + tokens.size(1) <= config_.max_seq_len, "MoeTransformer::forward: sequence length ",
              offset + tokens.size(1), " exceeds max_seq_len ", config_.max_seq_len);
  RotaryTables rotary = rotary_tables(offset + tokens.size(1), config_.head_dim, config_.rope_theta, embed_.device());
  if (offset > 0) rotary = {rotary.cos.narrow(0, offset, tokens.size(1)), rotary.sin.narrow(0, offset, tokens.size(1))};
  if (options.cache != nullptr) options.cache->layers.resize(layers_.size());
  MoeOptions moe_options;
  moe_options.backend = options.backend;
  moe_options.noise_generator = options.noise_generator;
  moe_options.expert_gradients = options.expert_gradients;

  // The hidden state is residual + delta, added by the next RMSNorm (decoder_layer.h).
  torch::Tensor residual = torch::embedding(embed_, tokens), delta;
  std::vector<torch::Tensor> balance, z, counts;
  for (size_t index = 0; index < layers_.size(); ++index) {
    LayerKeysValues* cache = options.cache != nullptr ? &options.cache->layers[index] : nullptr;
    DecoderOutput out = layers_[index]->forward(residual, delta, rotary, moe_options, cache);
    residual = std::move(out.residual);
    delta = std::move(out.delta);
    balance.push_back(out.load_balance_loss);
    z.push_back(out.z_loss);
    counts.push_back(out.counts);
    if (options.router_inputs != nullptr) options.router_inputs->push_back(out.router_input);
    if (options.attention_inputs != nullptr) options.attention_inputs->push_back(out.attention_input);
  }
  const torch::Tensor hidden =
      add_rms_norm(residual, delta, final_norm_, config_.norm_eps, compat::gemm_dtype(residual)).normed;
  if (options.head_input != nullptr) *options.head_input = hidden;
  ForwardOutput output;
  output.logits = torch::matmul(hidden, lm_head().t());
  if (output_vocabulary_ > 0 && output_vocabulary_ < config_.vocab_size) {
    // In place (no copy of the logits on every teacher step); finite rather than -inf: a distillation loss
    // multiplies the teacher's zero probabilities by their logs.
    output.logits.narrow(-1, output_vocabulary_, config_.vocab_size - output_vocabulary_).fill_(kImpossibleLogit);
  }
  output.load_balance_loss = torch::stack(balance).mean();
  output.z_loss = torch::stack(z).mean();
  output.aux_loss = output.load_balance_loss * config_.load_balance_weight + output.z_loss * config_.z_loss_weight;
  if (options.collect_routing) output.routing_counts = torch::stack(counts);
  return output;
}

void MoeTransformer::apply_trainable_policy(const TrainablePolicy& policy) {
  const bool shared = policy.shared == SharedPolicy::kTrainable;
  const bool token_rows = policy.shared == SharedPolicy::kNewTokenRows || policy.shared == SharedPolicy::kOrthogonal;
  const bool projections = policy.shared == SharedPolicy::kOrthogonal;
  for (auto& item : named_parameters()) {
    if (is_group_parameter(item.key())) continue;
    const bool vocabulary = item.key() == "embed" || item.key() == "lm_head";
    const bool qkv = ends_with(item.key(), ".attn.q_proj") || ends_with(item.key(), ".attn.k_proj") ||
                     ends_with(item.key(), ".attn.v_proj");
    item.value().set_requires_grad(shared || ((token_rows || policy.new_vocabulary_rows) && vocabulary) ||
                                   (projections && qkv));
  }
  const auto groups = static_cast<int64_t>(group_sizes_.size());
  const int64_t trained = policy.trained_group.value_or(groups - 1);
  TORCH_CHECK(trained >= 0 && trained < groups, "MoeTransformer::apply_trainable_policy: trained group ", trained,
              " does not exist (the model has ", groups, " groups)");
  for (auto& layer : layers_) {
    MoeLayerImpl& moe = layer->moe();
    for (size_t g = 0; g < moe.n_groups(); ++g) {
      const bool is_trained = static_cast<int64_t>(g) == trained;
      moe.group(g).set_experts_trainable(is_trained || policy.experts == ExpertPolicy::kAll);
      moe.group(g).set_gate_trainable(policy.gate == GatePolicy::kAll ||
                                      (policy.gate == GatePolicy::kNewRows && is_trained));
    }
  }
}

std::vector<std::pair<std::string, torch::Tensor>> MoeTransformer::named_trainable_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> result;
  for (const auto& item : named_parameters()) {
    if (item.value().requires_grad()) result.emplace_back(item.key(), item.value());
  }
  return result;
}

std::vector<torch::Tensor> MoeTransformer::trainable_parameters() const {
  std::vector<torch::Tensor> result;
  for (const auto& [name, tensor] : named_trainable_parameters()) result.push_back(tensor);
  return result;
}

int64_t MoeTransformer::parameter_count() const {
  int64_t total = 0;
  for (const auto& tensor : parameters()) total += tensor.numel();
  return total;
}

int64_t MoeTransformer::router_parameter_count() const {
  int64_t total = 0;
  for (const auto& layer : layers_) {
    for (size_t g = 0; g < layer->moe().n_groups(); ++g) {
      const ExpertGroupImpl& group = layer->moe().group(g);
      total += group.gate_weight().numel() + (group.has_gate_bias() ? group.gate_bias().numel() : 0);
    }
  }
  return total;
}

int64_t MoeTransformer::active_parameters_per_token() const {
  int64_t shared = 0;
  for (const auto& item : named_parameters()) {
    if (!is_group_parameter(item.key())) shared += item.value().numel();
  }
  return shared + config_.n_layers * config_.top_k * 3 * config_.d_model * config_.d_expert;
}

std::shared_ptr<MoeTransformer> MoeTransformer::clone_model(const compat::Optional<torch::Device>& device) const {
  auto copy = std::make_shared<MoeTransformer>(config_, group_sizes_, /*initialise=*/false);
  copy->to(device.has_value() ? *device : embed_.device(), embed_.scalar_type());
  {
    torch::NoGradGuard no_grad;
    const auto source = named_parameters();
    auto target = copy->named_parameters();
    for (const auto& item : source) {
      torch::Tensor& destination = target[item.key()];
      destination.copy_(item.value());
      destination.set_requires_grad(item.value().requires_grad());
    }
  }
  copy->output_vocabulary_ = output_vocabulary_;
  copy->train(is_training());
  return copy;
}

std::shared_ptr<torch::nn::Module> MoeTransformer::clone(const compat::Optional<torch::Device>& device) const {
  return clone_model(device);
}

}  // namespace grove::model
