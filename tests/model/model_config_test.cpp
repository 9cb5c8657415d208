// ModelConfig: strict YAML parsing with defaults, validation naming the key and constraint, JSON/YAML round trips.
#include "model/model_config.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "common/strict_yaml.h"

namespace grove::model {
namespace {

ModelConfig parse(const std::string& yaml) {
  const YAML::Node root = load_yaml_string(yaml, "experiment.yaml");
  StrictMap map(root["model"], "experiment.yaml", "model");
  return parse_model_config(map);
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelConfig, ParsesKeysAndKeepsDefaultsForTheRest) {
  const ModelConfig config = parse("model:\n  d_model: 128\n  n_heads: 8\n  top_k: 1\n  router_bias: true\n"
                                   "  rope_theta: 500000\n  seed: 42\n");
  EXPECT_EQ(config.d_model, 128);
  EXPECT_EQ(config.n_heads, 8);
  EXPECT_EQ(config.head_dim, 16) << "head_dim defaults to d_model / n_heads";
  EXPECT_EQ(config.top_k, 1);
  EXPECT_TRUE(config.router_bias);
  EXPECT_DOUBLE_EQ(config.rope_theta, 500000.0);
  EXPECT_EQ(config.seed, 42u);
  EXPECT_EQ(config.vocab_size, ModelConfig{}.vocab_size);
  EXPECT_NO_THROW(config.validate());
}

TEST(ModelConfig, ADModelTheHeadsDoNotDivideIsRefusedNotFloored) {
  // d_model 66 with 4 heads trained with head_dim silently floored to 16.
  const ModelConfig config = parse("model:\n  d_model: 66\n  n_heads: 4\n  n_kv_heads: 4\n");
  const std::string message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("model.d_model"), std::string::npos) << message;
  EXPECT_NE(message.find("multiple of n_heads (4)"), std::string::npos) << message;
  EXPECT_NO_THROW(parse("model:\n  d_model: 64\n  n_heads: 4\n  n_kv_heads: 4\n").validate());
}

TEST(ModelConfig, UnknownKeyNamesFileLineAndClosestKey) {
  const std::string message = error_of([] { parse("model:\n  d_model: 64\n  top_kk: 2\n"); });
  EXPECT_NE(message.find("experiment.yaml:3"), std::string::npos) << message;
  EXPECT_NE(message.find("top_kk"), std::string::npos) << message;
  EXPECT_NE(message.find("top_k"), std::string::npos) << message;
}

TEST(ModelConfig, WrongTypeNamesKey) {
  const std::string message = error_of([] { parse("model:\n  n_layers: four\n"); });
  EXPECT_NE(message.find("model.n_layers"), std::string::npos) << message;
  EXPECT_NE(message.find("integer"), std::string::npos) << message;
}

TEST(ModelConfig, ValidateNamesTheKeyAndConstraint) {
  ModelConfig config;
  config.top_k = 5;
  config.n_experts = 4;
  std::string message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("model.top_k"), std::string::npos) << message;
  EXPECT_NE(message.find("n_experts (4)"), std::string::npos) << message;

  config = ModelConfig{};
  config.n_heads = 6;
  config.n_kv_heads = 4;
  message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("model.n_kv_heads"), std::string::npos) << message;

  config = ModelConfig{};
  config.head_dim = 7;
  message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("model.head_dim"), std::string::npos) << message;
  EXPECT_NE(message.find("even"), std::string::npos) << message;

  config = ModelConfig{};
  config.d_expert = 0;
  message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("model.d_expert"), std::string::npos) << message;

  config = ModelConfig{};
  config.load_balance_weight = -0.1;
  message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("model.load_balance_weight"), std::string::npos) << message;
}

TEST(ModelConfig, JsonRoundTripIsExactAndStrict) {
  ModelConfig config;
  config.d_model = 96;
  config.norm_eps = 1e-6;
  config.router_noise_std = 0.125;
  config.tie_embeddings = true;
  config.seed = 18446744073709551615ull;
  const nlohmann::json json = model_config_to_json(config);
  EXPECT_EQ(model_config_from_json(json, "metadata.json"), config);

  nlohmann::json missing = json;
  missing.erase("top_k");
  std::string message = error_of([&] { model_config_from_json(missing, "metadata.json"); });
  EXPECT_NE(message.find("metadata.json"), std::string::npos) << message;
  EXPECT_NE(message.find("'top_k' is missing"), std::string::npos) << message;

  nlohmann::json extra = json;
  extra["d_modle"] = 3;
  message = error_of([&] { model_config_from_json(extra, "metadata.json"); });
  EXPECT_NE(message.find("'d_modle' is not known"), std::string::npos) << message;

  nlohmann::json wrong = json;
  wrong["tie_embeddings"] = 1;
  message = error_of([&] { model_config_from_json(wrong, "metadata.json"); });
  EXPECT_NE(message.find("tie_embeddings"), std::string::npos) << message;
}

TEST(ModelConfig, YamlDumpParsesBackToTheSameConfig) {
  ModelConfig config;
  config.d_model = 80;
  config.n_heads = 5;
  config.head_dim = 16;
  config.rope_theta = 1e6;
  config.z_loss_weight = 0.0005;
  config.router_bias = true;
  const std::string yaml = model_config_to_yaml(config);
  EXPECT_NE(yaml.find("d_model: 80\n"), std::string::npos) << yaml;
  const YAML::Node root = load_yaml_string(yaml, "dump.yaml");
  StrictMap map(root, "dump.yaml", "model");
  EXPECT_EQ(parse_model_config(map), config);
}

}  // namespace
}  // namespace grove::model
