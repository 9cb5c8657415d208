// Freezing: several AdamW steps after growth with every group but the trained one frozen. Frozen tensors (the other
// groups' experts and gate rows, shared weights when frozen) stay bit-identical and have no optimizer state; the
// trained group's experts and gate rows change, whether it is the new group or an older one.
#include <gtest/gtest.h>

#include <map>

#include "model/growth.h"
#include "model/moe_transformer.h"
#include "tests/model/model_test_util.h"

namespace grove::model {
namespace {
using testing::random_tokens;
using testing::tiny_config;

std::map<std::string, torch::Tensor> snapshot(const MoeTransformer& model) {
  std::map<std::string, torch::Tensor> values;
  for (const auto& item : model.named_parameters()) values[item.key()] = item.value().detach().clone();
  return values;
}

// A grown model trained for `steps` AdamW steps on next-token loss + aux loss under `policy`; returns the values
// before training, and the number of optimizer states afterwards.
struct Trained {
  std::shared_ptr<MoeTransformer> model;
  std::map<std::string, torch::Tensor> before;
  size_t optimizer_states = 0;
  size_t trainable = 0;
};

Trained train_after_growth(const TrainablePolicy& policy, int steps) {
  auto model = std::make_shared<MoeTransformer>(tiny_config());
  ForwardOptions pre_pass;
  pre_pass.collect_routing = true;
  const torch::Tensor counts = model->forward(random_tokens(4, 16, 96, 1), pre_pass).routing_counts;
  GrowthOptions growth;
  growth.n_per_layer = 2;
  growth.init = GrowthInit::kCopy;
  growth.parent_routing_counts = counts;
  growth.seed = 3;
  grow(*model, growth);
  model->apply_trainable_policy(policy);
  model->train();

  Trained result;
  result.before = snapshot(*model);
  const auto parameters = model->trainable_parameters();
  result.trainable = parameters.size();
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  for (int step = 0; step < steps; ++step) {
    const torch::Tensor tokens = random_tokens(4, 16, 96, 100 + static_cast<uint64_t>(step));
    const ForwardOutput out = model->forward(tokens.slice(1, 0, 15));
    const torch::Tensor loss =
        torch::cross_entropy_loss(out.logits.reshape({-1, 96}), tokens.slice(1, 1).reshape({-1})) + out.aux_loss;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  result.optimizer_states = optimizer.state().size();
  result.model = model;
  return result;
}

bool is_new_group(const std::string& name) { return name.find(".moe.groups.1.") != std::string::npos; }
bool is_gate(const std::string& name) { return name.find("gate_") != std::string::npos; }
bool is_group(const std::string& name) { return name.find(".moe.groups.") != std::string::npos; }

TEST(Freezing, FrozenTensorsAreBitIdenticalAndHaveNoOptimizerState) {
  const Trained trained =
      train_after_growth({GatePolicy::kNewRows, SharedPolicy::kFrozen, ExpertPolicy::kNewest, std::nullopt}, 4);
  size_t frozen = 0, changed = 0;
  for (const auto& item : trained.model->named_parameters()) {
    const std::string& name = item.key();
    const bool unchanged = torch::equal(item.value(), trained.before.at(name));
    if (is_new_group(name)) {
      EXPECT_FALSE(unchanged) << name << " should have trained";
      EXPECT_TRUE(item.value().requires_grad()) << name;
      ++changed;
    } else {
      EXPECT_TRUE(unchanged) << name << " is frozen and must stay bit-identical";
      EXPECT_FALSE(item.value().grad().defined()) << name << " must cost no gradient";
      ++frozen;
    }
  }
  EXPECT_EQ(changed, 2u * 4u);  // 2 layers x (w1, w3, w2, gate_weight)
  EXPECT_GT(frozen, 20u);
  EXPECT_EQ(trained.trainable, changed);
  EXPECT_EQ(trained.optimizer_states, changed) << "only trainable tensors carry AdamW moments";
}

TEST(Freezing, SharedTrainableAndAllGateRowsMoveWhileOldExpertsStayFrozen) {
  const Trained trained =
      train_after_growth({GatePolicy::kAll, SharedPolicy::kTrainable, ExpertPolicy::kNewest, std::nullopt}, 3);
  for (const auto& item : trained.model->named_parameters()) {
    const std::string& name = item.key();
    const bool unchanged = torch::equal(item.value(), trained.before.at(name));
    const bool old_expert = is_group(name) && !is_new_group(name) && !is_gate(name);
    if (old_expert) {
      EXPECT_TRUE(unchanged) << name;
    } else {
      EXPECT_FALSE(unchanged) << name << " is trainable under this policy";
    }
  }
  EXPECT_EQ(trained.optimizer_states, trained.trainable);
}

// A phase without growth trains the group of its most similar earlier distribution, here the base group: its
// experts and router rows train, the newest group's stay bit-identical and cost no gradient.
TEST(Freezing, AnOlderTrainedGroupTrainsWhileTheNewestStaysBitIdentical) {
  const Trained trained =
      train_after_growth({GatePolicy::kNewRows, SharedPolicy::kFrozen, ExpertPolicy::kNewest, 0}, 4);
  size_t changed = 0;
  for (const auto& item : trained.model->named_parameters()) {
    const std::string& name = item.key();
    const bool unchanged = torch::equal(item.value(), trained.before.at(name));
    const bool base_group = name.find(".moe.groups.0.") != std::string::npos;
    EXPECT_EQ(item.value().requires_grad(), base_group) << name;
    if (base_group) {
      EXPECT_FALSE(unchanged) << name << " belongs to the trained group";
      ++changed;
    } else {
      EXPECT_TRUE(unchanged) << name << " is frozen and must stay bit-identical";
      EXPECT_FALSE(item.value().grad().defined()) << name << " must cost no gradient";
    }
  }
  EXPECT_EQ(changed, 2u * 4u);  // 2 layers x (w1, w3, w2, gate_weight)
  EXPECT_EQ(trained.optimizer_states, changed);
}

TEST(Freezing, FrozenGateKeepsEveryRouterRow) {
  const Trained trained =
      train_after_growth({GatePolicy::kFrozen, SharedPolicy::kFrozen, ExpertPolicy::kNewest, std::nullopt}, 2);
  for (const auto& item : trained.model->named_parameters()) {
    const bool unchanged = torch::equal(item.value(), trained.before.at(item.key()));
    EXPECT_EQ(unchanged, !(is_new_group(item.key()) && !is_gate(item.key()))) << item.key();
  }
}

}  // namespace
}  // namespace grove::model
