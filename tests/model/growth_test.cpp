// Growth: lineage (slots, parents from the routing pre-pass, group index), parameter accounting (total grows,
// active per token does not), copies start near their parents, and bad options are refused.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "model/growth.h"
#include "model/moe_transformer.h"
#include "tests/model/model_test_util.h"

namespace grove::model {
namespace {
using testing::random_tokens;
using testing::relative_error;
using testing::tiny_config;

TEST(Growth, LineageNamesNewSlotsAndTheMostUsedParents) {
  MoeTransformer model(tiny_config());
  // Hand-made pre-pass counts: layer 0 prefers slot 2 then 0; layer 1 prefers slot 3, then a tie 1 = 2.
  const torch::Tensor counts = torch::tensor({{5, 1, 9, 0}, {2, 4, 4, 7}}, torch::kLong);
  GrowthOptions options;
  options.n_per_layer = 3;
  options.init = GrowthInit::kCopy;
  options.parent_routing_counts = counts;
  options.seed = 11;
  const std::vector<LineageEntry> lineage = grow(model, options);
  ASSERT_EQ(lineage.size(), 6u);
  const std::vector<std::pair<int64_t, int64_t>> expected{{4, 2}, {5, 0}, {6, 1}, {4, 3}, {5, 1}, {6, 2}};
  for (size_t i = 0; i < lineage.size(); ++i) {
    EXPECT_EQ(lineage[i].layer, static_cast<int64_t>(i / 3));
    EXPECT_EQ(lineage[i].slot, expected[i].first) << i;
    ASSERT_TRUE(lineage[i].parent_slot.has_value());
    EXPECT_EQ(*lineage[i].parent_slot, expected[i].second) << i;
    EXPECT_EQ(lineage[i].group, 1);
    EXPECT_EQ(lineage[i].init, GrowthInit::kCopy);
  }
  EXPECT_EQ(model.group_sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(model.n_experts_per_layer(), 7);

  // A second growth continues the slot numbering and may pick a grown expert as parent.
  const torch::Tensor more = torch::tensor({{0, 0, 0, 0, 0, 0, 8}, {0, 0, 0, 0, 0, 0, 0}}, torch::kLong);
  options.n_per_layer = 1;
  options.parent_routing_counts = more;
  const auto second = grow(model, options);
  EXPECT_EQ(second[0].slot, 7);
  EXPECT_EQ(*second[0].parent_slot, 6);
  EXPECT_EQ(second[0].group, 2);
  EXPECT_EQ(*second[1].parent_slot, 0) << "all-zero counts: ties go to the lowest slot";
}

TEST(Growth, ParameterCountGrowsWhileActiveParametersStayTheSame) {
  const ModelConfig config = tiny_config();
  MoeTransformer model(config);
  const int64_t total = model.parameter_count();
  const int64_t active = model.active_parameters_per_token();
  GrowthOptions options;
  options.n_per_layer = 2;
  options.init = GrowthInit::kRandom;
  const auto lineage = grow(model, options);
  const int64_t per_expert = 3 * config.d_model * config.d_expert + config.d_model;  // experts + gate row
  EXPECT_EQ(model.parameter_count(), total + config.n_layers * 2 * per_expert);
  EXPECT_EQ(model.active_parameters_per_token(), active);
  for (const auto& entry : lineage) {
    EXPECT_FALSE(entry.parent_slot.has_value());
    EXPECT_EQ(entry.init, GrowthInit::kRandom);
  }
  // Random init draws like the base init: same scale, different values.
  const auto& group = model.layer(0).moe().group(1);
  EXPECT_NEAR(group.w1().std().item<double>(), config.init_std, 0.1 * config.init_std);
  EXPECT_TRUE(group.w1().requires_grad());
}

TEST(Growth, CopiedExpertsStartNearTheirParentsAndTop1OutputBarelyMoves) {
  ModelConfig config = tiny_config();
  config.top_k = 1;
  MoeTransformer model(config);
  const torch::Tensor tokens = random_tokens(4, 16, 96, 9);
  ForwardOptions pre_pass;
  pre_pass.collect_routing = true;
  const ForwardOutput before = model.forward(tokens, pre_pass);
  GrowthOptions options;
  options.n_per_layer = 2;
  options.init = GrowthInit::kCopy;
  options.parent_routing_counts = before.routing_counts;
  options.noise_std = 1e-3;
  options.seed = 5;
  const auto lineage = grow(model, options);
  for (const auto& entry : lineage) {
    const MoeLayerImpl& moe = model.layer(entry.layer).moe();
    const auto [pg, pj] = moe.locate(*entry.parent_slot);
    const auto [cg, cj] = moe.locate(entry.slot);
    const double w1_error = relative_error(moe.group(cg).w1()[cj], moe.group(pg).w1()[pj]);
    EXPECT_GT(w1_error, 0.0) << "noise breaks the tie with the parent";
    EXPECT_LT(w1_error, 3e-3);
    EXPECT_LT(relative_error(moe.group(cg).gate_weight()[cj], moe.group(pg).gate_weight()[pj]), 3e-3);
  }
  // With top-1 routing a token now picks the parent or its near-identical copy, so the model's function is kept.
  EXPECT_LT(relative_error(model.forward(tokens).logits, before.logits), 1e-2);

  // The same seed grows the same values.
  MoeTransformer again(config);
  grow(again, options);
  EXPECT_TRUE(torch::equal(again.layer(1).moe().group(1).w2(), model.layer(1).moe().group(1).w2()));
}

TEST(Growth, RefusesMissingOrMisshapenCountsAndBadSizes) {
  MoeTransformer model(tiny_config());
  GrowthOptions options;
  options.init = GrowthInit::kCopy;
  EXPECT_THROW(grow(model, options), ConfigError) << "copy needs a pre-pass";
  options.parent_routing_counts = torch::zeros({2, 5}, torch::kLong);
  try {
    grow(model, options);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 4]"), std::string::npos) << e.what();
  }
  options.init = GrowthInit::kRandom;
  options.n_per_layer = 0;
  EXPECT_THROW(grow(model, options), ConfigError);
  EXPECT_EQ(model.group_sizes().size(), 1u) << "a refused growth leaves the model unchanged";
  EXPECT_EQ(parse_growth_init("copy", "growth.init"), GrowthInit::kCopy);
  EXPECT_THROW(parse_growth_init("clone", "growth.init"), ConfigError);
}

}  // namespace
}  // namespace grove::model
