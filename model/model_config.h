// The shape and hyper-parameters of a Grove MoE decoder: parsed strictly from the `model:` YAML section, validated
// as a separate step, and serialised to JSON (checkpoint metadata) and YAML (`dump-config`). No LibTorch here, so
// the orchestrator's config code can include it cheaply.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace grove {
class StrictMap;
}

namespace grove::model {

struct ModelConfig {
  int64_t vocab_size = 8000;
  int64_t d_model = 256;
  int64_t n_layers = 4;
  int64_t n_heads = 4;
  int64_t n_kv_heads = 4;   // grouped-query attention when smaller than n_heads (must divide it)
  int64_t head_dim = 64;    // defaults to d_model / n_heads when the YAML leaves it out
  int64_t d_expert = 512;   // the width f of each SwiGLU expert
  int64_t n_experts = 4;    // experts per MoE layer in the base model (growth adds more)
  int64_t top_k = 2;
  int64_t max_seq_len = 256;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  bool tie_embeddings = false;
  bool router_bias = false;
  double router_noise_std = 0.0;     // std of Gaussian noise added to router logits in training mode
  double load_balance_weight = 0.01;  // weight of the Switch load-balancing loss in aux_loss
  double z_loss_weight = 0.001;       // weight of the router z-loss in aux_loss
  double init_std = 0.02;
  uint64_t seed = 0;

  // Throws ConfigError naming the first key that breaks a constraint and the constraint itself.
  void validate() const;

  bool operator==(const ModelConfig&) const = default;
};

// Reads every key of a `model:` mapping (missing keys keep the defaults above; head_dim defaults to
// d_model / n_heads), then calls `map.finish()` so an unknown key is an error naming the closest valid one.
// Does not validate: call `validate()` on the result.
ModelConfig parse_model_config(StrictMap& map);

// Every field, by its YAML key. `model_config_from_json` is strict too: a missing or unknown key, or a value of the
// wrong type, throws ConfigError naming `source` (a file name, for messages) and the key.
nlohmann::json model_config_to_json(const ModelConfig& config);
ModelConfig model_config_from_json(const nlohmann::json& json, const std::string& source);

// The resolved config as a YAML mapping (keys in declaration order), for `dump-config`.
std::string model_config_to_yaml(const ModelConfig& config);

}  // namespace grove::model
