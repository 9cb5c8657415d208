// The decoder as a whole: shapes, causality, deterministic seeded init, rotary layout, grouped-query attention,
// cached one-token-at-a-time decoding, parameter accounting, trainable policies, deep copies.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "common/errors.h"
#include "model/attention.h"
#include "model/moe_transformer.h"
#include "model/seeded_init.h"
#include "tests/model/model_test_util.h"

namespace grove::model {
namespace {
using testing::random_tokens;
using testing::relative_error;
using testing::tiny_config;

TEST(MoeTransformer, ForwardShapesRoutingCountsAndAuxLoss) {
  MoeTransformer model(tiny_config());
  const torch::Tensor tokens = random_tokens(3, 10, 96, 1);
  ForwardOptions options;
  options.collect_routing = true;
  const ForwardOutput out = model.forward(tokens, options);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 10, 96}));
  ASSERT_EQ(out.routing_counts.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_TRUE(torch::equal(out.routing_counts.sum(1), torch::full({2}, 3 * 10 * 2, torch::kLong)));
  const double expected = out.load_balance_loss.item<double>() * 0.01 + out.z_loss.item<double>() * 0.001;
  EXPECT_NEAR(out.aux_loss.item<double>(), expected, 1e-7);
  EXPECT_GE(out.load_balance_loss.item<double>(), 1.0 - 1e-6) << "the Switch loss is minimised at 1 by uniform routing";
  EXPECT_FALSE(model.forward(tokens).routing_counts.defined()) << "counts only when asked";
}

TEST(MoeTransformer, LogitsAreCausal) {
  MoeTransformer model(tiny_config());
  torch::Tensor tokens = random_tokens(2, 12, 96, 2);
  const torch::Tensor before = model.forward(tokens).logits;
  tokens.index_put_({torch::indexing::Slice(), 7}, (tokens.select(1, 7) + 1) % 96);
  const torch::Tensor after = model.forward(tokens).logits;
  EXPECT_TRUE(torch::allclose(before.slice(1, 0, 7), after.slice(1, 0, 7), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(before.slice(1, 7), after.slice(1, 7)));
}

TEST(MoeTransformer, InitialisationIsDeterministicPerSeedAndIndependentOfOtherParameters) {
  MoeTransformer a(tiny_config(7)), b(tiny_config(7)), c(tiny_config(8));
  const auto pa = a.named_parameters(), pb = b.named_parameters(), pc = c.named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  EXPECT_FALSE(torch::equal(pa["layers.0.moe.groups.0.w1"], pc["layers.0.moe.groups.0.w1"]));
  // A parameter's values depend on its name and the seed only: a deeper model shares the first layers' values.
  ModelConfig deeper = tiny_config(7);
  deeper.n_layers = 3;
  MoeTransformer d(deeper);
  EXPECT_TRUE(torch::equal(d.named_parameters()["layers.1.attn.q_proj"], pa["layers.1.attn.q_proj"]));
  EXPECT_TRUE(torch::equal(pa["layers.0.attn_norm"], torch::ones({32})));
  const double std_w1 = pa["layers.0.moe.groups.0.w1"].std().item<double>();
  const double std_w2 = pa["layers.0.moe.groups.0.w2"].std().item<double>();
  EXPECT_NEAR(std_w1, 0.02, 0.002);
  EXPECT_NEAR(std_w2, 0.02 / std::sqrt(4.0), 0.001) << "output projections are scaled by 1/sqrt(2 n_layers)";
}

TEST(MoeTransformer, RotaryTablesAndRotateHalfLayout) {
  const int64_t dim = 8;
  const double theta = 10000.0;
  const RotaryTables tables = rotary_tables(5, dim, theta, torch::kCPU);
  for (int64_t p = 0; p < 5; ++p) {
    for (int64_t i = 0; i < dim / 2; ++i) {
      const double angle = static_cast<double>(p) * std::pow(theta, -2.0 * static_cast<double>(i) / dim);
      EXPECT_NEAR(tables.cos[p][i].item<double>(), std::cos(angle), 1e-6);
      EXPECT_NEAR(tables.sin[p][i + dim / 2].item<double>(), std::sin(angle), 1e-6);
    }
  }
  // Component i pairs with component i + dim/2 (Hugging Face's rotate_half, not interleaved pairs).
  torch::Tensor x = torch::zeros({1, 1, 5, dim});
  x.select(3, 1).fill_(1.0);
  const torch::Tensor rotated = apply_rotary(x, tables);
  const double angle = 3.0 * std::pow(theta, -2.0 / dim);
  EXPECT_NEAR(rotated[0][0][3][1].item<double>(), std::cos(angle), 1e-6);
  EXPECT_NEAR(rotated[0][0][3][1 + dim / 2].item<double>(), std::sin(angle), 1e-6);
  EXPECT_NEAR(rotated[0][0][3].norm().item<double>(), 1.0, 1e-6);
}

TEST(MoeTransformer, GroupedQueryAttentionEqualsMultiHeadWithRepeatedKeyValueHeads) {
  ModelConfig gqa = tiny_config();
  ModelConfig mha = gqa;
  mha.n_kv_heads = mha.n_heads;
  Attention grouped(gqa), full(mha);
  torch::NoGradGuard no_grad;
  for (auto& item : grouped->named_parameters()) fill_normal_(item.value(), 0.2, derive_seed(3, item.key()));
  full->named_parameters()["q_proj"].copy_(grouped->q_proj());
  full->named_parameters()["o_proj"].copy_(grouped->o_proj());
  // Query head h reads key/value head h / (n_heads / n_kv_heads), as transformers' repeat_kv does.
  const int64_t rep = gqa.n_heads / gqa.n_kv_heads, dim = gqa.head_dim;
  for (int64_t h = 0; h < gqa.n_heads; ++h) {
    const int64_t source = h / rep;
    full->named_parameters()["k_proj"].slice(0, h * dim, (h + 1) * dim).copy_(grouped->k_proj().slice(0, source * dim, (source + 1) * dim));
    full->named_parameters()["v_proj"].slice(0, h * dim, (h + 1) * dim).copy_(grouped->v_proj().slice(0, source * dim, (source + 1) * dim));
  }
  const torch::Tensor x = seeded_normal({2, 6, 32}, 1.0, 3);
  const RotaryTables tables = rotary_tables(6, dim, gqa.rope_theta, torch::kCPU);
  EXPECT_LT(relative_error(grouped->forward(x, tables), full->forward(x, tables)), 1e-6);
}

TEST(MoeTransformer, CachedDecodingOneTokenAtATimeGivesTheFullForwardsLogits) {
  for (const int64_t kv_heads : {int64_t{4}, int64_t{2}}) {
    ModelConfig config = tiny_config();
    config.n_kv_heads = kv_heads;
    MoeTransformer model(config);
    model.eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor tokens = random_tokens(3, 11, 96, 9);
    const torch::Tensor full = model.forward(tokens).logits;
    KeysValuesCache cache;
    ForwardOptions options;
    options.cache = &cache;
    // A prompt of four tokens in one forward, then one token at a time.
    std::vector<torch::Tensor> pieces{model.forward(tokens.slice(1, 0, 4), options).logits};
    for (int64_t t = 4; t < tokens.size(1); ++t) pieces.push_back(model.forward(tokens.slice(1, t, t + 1), options).logits);
    EXPECT_EQ(cache.length(), 11);
    EXPECT_LT(relative_error(torch::cat(pieces, 1), full), 1e-5) << "kv heads " << kv_heads;
    EXPECT_THROW(model.forward(tokens.slice(1, 0, 2), options), c10::Error) << "two new tokens after a cached prefix";
  }
}

TEST(MoeTransformer, ParameterCountsFollowTheConfig) {
  const ModelConfig c = tiny_config();
  MoeTransformer model(c);
  const int64_t attention = c.d_model * c.n_heads * c.head_dim * 2 + c.d_model * c.n_kv_heads * c.head_dim * 2;
  const int64_t shared = 2 * c.vocab_size * c.d_model + c.d_model + c.n_layers * (attention + 2 * c.d_model);
  const int64_t expert = 3 * c.d_model * c.d_expert;
  const int64_t router = c.n_experts * c.d_model;
  EXPECT_EQ(model.parameter_count(), shared + c.n_layers * (c.n_experts * expert + router));
  EXPECT_EQ(model.active_parameters_per_token(), shared + c.n_layers * c.top_k * expert);
  EXPECT_EQ(model.router_parameter_count(), c.n_layers * router);

  ModelConfig tied = c;
  tied.tie_embeddings = true;
  MoeTransformer tied_model(tied);
  EXPECT_EQ(tied_model.parameter_count(), model.parameter_count() - c.vocab_size * c.d_model);
  EXPECT_FALSE(tied_model.named_parameters().contains("lm_head"));
  EXPECT_EQ(tied_model.lm_head().data_ptr(), tied_model.embedding().data_ptr());
}

TEST(MoeTransformer, TrainablePolicySelectsExactlyTheIntendedParameters) {
  MoeTransformer model(tiny_config());
  model.append_group(2);
  model.apply_trainable_policy({GatePolicy::kNewRows, SharedPolicy::kFrozen, ExpertPolicy::kNewest, std::nullopt});
  std::set<std::string> names;
  for (const auto& [name, tensor] : model.named_trainable_parameters()) names.insert(name);
  std::set<std::string> expected;
  for (int layer = 0; layer < 2; ++layer) {
    for (const char* p : {"w1", "w3", "w2", "gate_weight"}) expected.insert(fmt::format("layers.{}.moe.groups.1.{}", layer, p));
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(model.trainable_parameters().size(), expected.size());

  model.apply_trainable_policy({GatePolicy::kAll, SharedPolicy::kTrainable, ExpertPolicy::kNewest, std::nullopt});
  EXPECT_TRUE(model.layer(0).moe().group(0).gate_trainable());
  EXPECT_FALSE(model.layer(0).moe().group(0).experts_trainable());
  EXPECT_TRUE(model.embedding().requires_grad());
  model.apply_trainable_policy({GatePolicy::kFrozen, SharedPolicy::kFrozen, ExpertPolicy::kAll, std::nullopt});
  EXPECT_FALSE(model.layer(1).moe().group(1).gate_trainable());
  EXPECT_TRUE(model.layer(1).moe().group(0).experts_trainable());
  EXPECT_FALSE(model.final_norm().requires_grad());

  EXPECT_EQ(parse_gate_policy("new_rows", "phase.gate"), GatePolicy::kNewRows);
  try {
    parse_gate_policy("newrows", "phase.gate");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("phase.gate"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("new_rows, all, frozen"), std::string::npos) << e.what();
  }
}

TEST(MoeTransformer, TrainablePolicyTrainsTheChosenGroupInsteadOfTheNewest) {
  MoeTransformer model(tiny_config());
  model.append_group(2);
  TrainablePolicy policy{GatePolicy::kNewRows, SharedPolicy::kFrozen, ExpertPolicy::kNewest, 0};
  model.apply_trainable_policy(policy);
  for (int64_t layer = 0; layer < 2; ++layer) {
    const auto& moe = model.layer(layer).moe();
    EXPECT_TRUE(moe.group(0).experts_trainable()) << layer;
    EXPECT_TRUE(moe.group(0).gate_trainable()) << layer << ": new_rows trains the trained group's rows";
    EXPECT_FALSE(moe.group(1).experts_trainable()) << layer;
    EXPECT_FALSE(moe.group(1).gate_trainable()) << layer;
  }
  EXPECT_FALSE(model.embedding().requires_grad());

  policy.gate = GatePolicy::kFrozen;
  model.apply_trainable_policy(policy);
  EXPECT_TRUE(model.layer(1).moe().group(0).experts_trainable());
  EXPECT_FALSE(model.layer(1).moe().group(0).gate_trainable());

  policy.gate = GatePolicy::kNewRows;
  policy.trained_group.reset();  // unset: the newest
  model.apply_trainable_policy(policy);
  EXPECT_FALSE(model.layer(0).moe().group(0).experts_trainable());
  EXPECT_TRUE(model.layer(0).moe().group(1).experts_trainable());
  EXPECT_TRUE(model.layer(0).moe().group(1).gate_trainable());

  policy.trained_group = 2;
  EXPECT_THROW(model.apply_trainable_policy(policy), c10::Error) << "the model has groups 0 and 1 only";
}

TEST(MoeTransformer, CloneIsADeepCopy) {
  const auto grown = testing::grown_random_model(tiny_config(), 1, 2);
  MoeTransformer& model = *grown;
  model.apply_trainable_policy({});
  model.eval();
  const auto copy = model.clone_model();
  const torch::Tensor tokens = random_tokens(2, 8, 96, 4);
  EXPECT_TRUE(torch::equal(copy->forward(tokens).logits, model.forward(tokens).logits));
  EXPECT_EQ(copy->group_sizes(), model.group_sizes());
  EXPECT_FALSE(copy->is_training());
  for (const auto& [name, tensor] : model.named_trainable_parameters()) {
    EXPECT_TRUE(copy->named_parameters()[name].requires_grad()) << name;
  }
  EXPECT_FALSE(copy->embedding().requires_grad());
  {
    torch::NoGradGuard no_grad;
    copy->layer(0).moe().group(0).w1().add_(1.0);
  }
  EXPECT_FALSE(torch::equal(copy->layer(0).moe().group(0).w1(), model.layer(0).moe().group(0).w1()));
  EXPECT_NE(std::dynamic_pointer_cast<MoeTransformer>(model.clone()), nullptr);
}

TEST(MoeTransformer, RejectsSequencesLongerThanMaxSeqLenAndBadConfigs) {
  MoeTransformer model(tiny_config());
  EXPECT_THROW(model.forward(random_tokens(1, 17, 96, 1)), c10::Error);
  ModelConfig bad = tiny_config();
  bad.top_k = 9;
  EXPECT_THROW(MoeTransformer{bad}, ConfigError);
}

TEST(MoeTransformer, Bf16AutocastOnCpuStaysCloseToFp32) {
  MoeTransformer model(tiny_config());
  const torch::Tensor tokens = random_tokens(2, 8, 96, 5);
  const torch::Tensor reference = model.forward(tokens).logits;
  for (const ExpertBackend backend : {ExpertBackend::kLoop, ExpertBackend::kGrouped}) {
    compat::AutocastGuard autocast(torch::kCPU, torch::kBFloat16);
    ForwardOptions options;
    options.backend = backend;
    EXPECT_LT(relative_error(model.forward(tokens, options).logits, reference), 5e-2) << expert_backend_name(backend);
  }
}

}  // namespace
}  // namespace grove::model
