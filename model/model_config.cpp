#include "model/model_config.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "common/errors.h"
#include "common/strict_yaml.h"

namespace grove::model {
namespace {

// One table drives parsing, both serialisations and the strict JSON reader, so a new key is added in one place.
using Member = std::variant<int64_t ModelConfig::*, uint64_t ModelConfig::*, double ModelConfig::*,
                            bool ModelConfig::*>;
struct Field {
  const char* key;
  Member member;
};

const std::array<Field, 19> kFields{{
    {"vocab_size", &ModelConfig::vocab_size},
    {"d_model", &ModelConfig::d_model},
    {"n_layers", &ModelConfig::n_layers},
    {"n_heads", &ModelConfig::n_heads},
    {"n_kv_heads", &ModelConfig::n_kv_heads},
    {"head_dim", &ModelConfig::head_dim},
    {"d_expert", &ModelConfig::d_expert},
    {"n_experts", &ModelConfig::n_experts},
    {"top_k", &ModelConfig::top_k},
    {"max_seq_len", &ModelConfig::max_seq_len},
    {"rope_theta", &ModelConfig::rope_theta},
    {"norm_eps", &ModelConfig::norm_eps},
    {"tie_embeddings", &ModelConfig::tie_embeddings},
    {"router_bias", &ModelConfig::router_bias},
    {"router_noise_std", &ModelConfig::router_noise_std},
    {"load_balance_weight", &ModelConfig::load_balance_weight},
    {"z_loss_weight", &ModelConfig::z_loss_weight},
    {"init_std", &ModelConfig::init_std},
    {"seed", &ModelConfig::seed},
}};

[[noreturn]] void fail(const std::string& key, const std::string& constraint) {
  throw ConfigError(fmt::format("model config: key 'model.{}' {}", key, constraint));
}

void require_positive(const char* key, int64_t value) {
  if (value <= 0) fail(key, fmt::format("must be a positive integer, got {}", value));
}

void require_non_negative(const char* key, double value) {
  if (!(value >= 0.0)) fail(key, fmt::format("must be >= 0, got {}", value));
}

}  // namespace

void ModelConfig::validate() const {
  require_positive("vocab_size", vocab_size);
  require_positive("d_model", d_model);
  require_positive("n_layers", n_layers);
  require_positive("n_heads", n_heads);
  require_positive("n_kv_heads", n_kv_heads);
  require_positive("head_dim", head_dim);
  require_positive("d_expert", d_expert);
  require_positive("n_experts", n_experts);
  require_positive("top_k", top_k);
  require_positive("max_seq_len", max_seq_len);
  if (n_heads % n_kv_heads != 0) {
    fail("n_kv_heads", fmt::format("must divide n_heads ({}), got {}", n_heads, n_kv_heads));
  }
  if (d_model % n_heads != 0 && head_dim == d_model / n_heads) {  // the default head_dim floors d_model / n_heads
    fail("d_model", fmt::format("must be a multiple of n_heads ({}), got {} (head_dim would be floored to {})", n_heads,
                                d_model, head_dim));
  }
  if (head_dim % 2 != 0) fail("head_dim", fmt::format("must be even (rotary embeddings rotate pairs), got {}", head_dim));
  if (top_k > n_experts) fail("top_k", fmt::format("must be <= n_experts ({}), got {}", n_experts, top_k));
  if (!(rope_theta > 1.0)) fail("rope_theta", fmt::format("must be > 1, got {}", rope_theta));
  if (!(norm_eps > 0.0 && norm_eps < 1.0)) fail("norm_eps", fmt::format("must be in (0, 1), got {}", norm_eps));
  if (!(init_std > 0.0)) fail("init_std", fmt::format("must be > 0, got {}", init_std));
  require_non_negative("router_noise_std", router_noise_std);
  require_non_negative("load_balance_weight", load_balance_weight);
  require_non_negative("z_loss_weight", z_loss_weight);
  // Token ids travel as int64 but shards store uint32: a larger vocabulary cannot be fed.
  if (vocab_size > (int64_t{1} << 32)) fail("vocab_size", fmt::format("must be <= 2^32, got {}", vocab_size));
}

ModelConfig parse_model_config(StrictMap& map) {
  ModelConfig config;
  for (const Field& field : kFields) {
    if (std::string(field.key) == "head_dim") continue;  // resolved below, once d_model and n_heads are known
    std::visit([&](auto member) { config.*member = map.get(field.key, config.*member); }, field.member);
  }
  const auto head_dim = map.optional<int64_t>("head_dim");
  config.head_dim = head_dim ? *head_dim : (config.n_heads > 0 ? config.d_model / config.n_heads : 0);
  map.finish();
  return config;
}

nlohmann::json model_config_to_json(const ModelConfig& config) {
  nlohmann::json json = nlohmann::json::object();
  for (const Field& field : kFields) {
    std::visit([&](auto member) { json[field.key] = config.*member; }, field.member);
  }
  return json;
}

ModelConfig model_config_from_json(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object()) throw ConfigError(fmt::format("{}: model config: expected a JSON object", source));
  ModelConfig config;
  std::set<std::string> known;
  for (const Field& field : kFields) {
    known.insert(field.key);
    const auto it = json.find(field.key);
    if (it == json.end()) throw ConfigError(fmt::format("{}: model config: key '{}' is missing", source, field.key));
    std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(config.*member)>;
          const bool ok = std::is_same_v<T, bool>       ? it->is_boolean()
                          : std::is_same_v<T, double>   ? it->is_number()
                          : std::is_same_v<T, uint64_t> ? it->is_number_unsigned()
                                                        : it->is_number_integer();
          if (!ok) {
            throw ConfigError(fmt::format("{}: model config: key '{}' expected {}, got {}", source, field.key,
                                          yaml_type_name<T>(), it->dump()));
          }
          config.*member = it->template get<T>();
        },
        field.member);
  }
  for (const auto& [key, value] : json.items()) {
    if (!known.contains(key)) throw ConfigError(fmt::format("{}: model config: key '{}' is not known", source, key));
  }
  return config;
}

std::string model_config_to_yaml(const ModelConfig& config) {
  std::string yaml;
  for (const Field& field : kFields) {
    std::visit([&](auto member) { yaml += fmt::format("{}: {}\n", field.key, config.*member); }, field.member);
  }
  return yaml;
}

}  // namespace grove::model
