// orch::CapturedStep on CUDA (label gpu; skips without a device): training steps replayed from the captured graph
// train the model exactly as eager steps do, from the same initial model and batches (losses step by step, then
// every parameter), and the parameters did move (a replay that left the gradients stale would fail here).
#include "orchestrator/captured_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "model/moe_transformer.h"
#include "model/seeded_init.h"
#include "model/torch_compat.h"
#include "orchestrator/adamw.h"
#include "orchestrator/training_loss.h"
#include "tests/support/tensor_compare.h"

namespace grove::orch {
namespace {

using grove::testing::relative_error;

model::ModelConfig small_config() {
  model::ModelConfig config;
  config.vocab_size = 128;
  config.d_model = 64;
  config.n_layers = 2;
  config.n_heads = 4;
  config.n_kv_heads = 4;
  config.head_dim = 16;
  config.d_expert = 128;
  config.n_experts = 8;
  config.top_k = 2;
  config.max_seq_len = 32;
  config.seed = 5;
  return config;
}

// That a replay reads a frozen expert group from the layer's cached weight stack (model/expert_stack_cache.h) and does
// not stack it again: a frozen w1 is rewritten behind its version counter (through an alias of its memory), which
// changes what an evaluation forward (no cache) computes but not what the replayed graph computes.
void expect_replays_read_the_cached_frozen_stack(model::MoeTransformer& model, CapturedStep& captured,
                                                 const torch::Tensor& tokens, const torch::Tensor& mask,
                                                 const TrainingLossOptions& options) {
  torch::Tensor frozen;
  for (const auto& item : model.named_parameters()) {
    if (item.key().find("groups.0.w1") != std::string::npos && !item.value().requires_grad()) {
      frozen = item.value();
      break;
    }
  }
  ASSERT_TRUE(frozen.defined()) << "no frozen w1 in expert group 0";
  auto evaluation_loss = [&] {
    const torch::NoGradGuard no_grad;
    model.eval();
    const double lm =
        training_loss(model, nullptr, tokens.slice(1, 0, 32), tokens.slice(1, 1, 33), mask, options).lm.item<double>();
    model.train();
    return lm;
  };
  const double replayed_before = captured.replay(tokens, mask).lm.item<double>();
  const double evaluated_before = evaluation_loss();
  const int64_t version = frozen._version();
  {
    const torch::NoGradGuard no_grad;
    torch::from_blob(frozen.data_ptr(), frozen.sizes(), frozen.options()).mul_(3.0);
  }
  ASSERT_EQ(frozen._version(), version) << "the write must not be seen by the version counter";
  const double evaluated_after = evaluation_loss();
  EXPECT_GT(std::abs(evaluated_after - evaluated_before), 1e-4 * std::abs(evaluated_before))
      << "the rewritten frozen weights change the model";
  EXPECT_NEAR(captured.replay(tokens, mask).lm.item<double>(), replayed_before, 1e-6 * std::abs(replayed_before))
      << "the replay stacked the frozen group again instead of reading the cached stack";
}

// Three eager steps and three replayed steps from the same model and batches; `policy` (if any) freezes part of it.
void expect_replayed_steps_train_as_eager_steps_do(const model::MoeTransformer& reference,
                                                   const model::TrainablePolicy* policy) {
  const torch::Device cuda(torch::kCUDA);
  const auto eager_model = reference.clone_model(cuda);
  const auto graph_model = reference.clone_model(cuda);
  if (policy != nullptr) {
    eager_model->apply_trainable_policy(*policy);
    graph_model->apply_trainable_policy(*policy);
  }
  ASSERT_EQ(CapturedStep::why_not(*graph_model, cuda, /*bf16_autocast=*/true), "");
  eager_model->train();
  graph_model->train();
  AdamW eager_optimizer(eager_model->named_trainable_parameters(), AdamWOptions{});
  AdamW graph_optimizer(graph_model->named_trainable_parameters(), AdamWOptions{});

  std::vector<torch::Tensor> batches;
  for (uint64_t i = 0; i < 3; ++i) {
    batches.push_back(
        (model::seeded_normal({4, 33}, 1.0, 100 + i).abs() * 40).to(torch::kLong).clamp_max(127).to(cuda));
  }
  const torch::Tensor mask = torch::ones({4, 32}, torch::TensorOptions().dtype(torch::kBool).device(cuda));
  TrainingLossOptions options;
  options.bf16_autocast = true;
  auto step_gradients = [&](model::MoeTransformer& model, AdamW& optimizer, const torch::Tensor& tokens,
                            const torch::Tensor& step_mask) {
    optimizer.zero_grad();
    TrainingLoss loss = training_loss(model, nullptr, tokens.slice(1, 0, 32), tokens.slice(1, 1, 33), step_mask, options);
    loss.total.backward();
    return loss;
  };

  std::vector<double> eager_losses, graph_losses;
  for (const auto& tokens : batches) {
    eager_losses.push_back(step_gradients(*eager_model, eager_optimizer, tokens, mask).lm.item<double>());
    eager_optimizer.clip_and_step(1e-2, 1.0);
    eager_optimizer.zero_grad();
  }
  CapturedStep captured([&](const torch::Tensor& t, const torch::Tensor& m) { return step_gradients(*graph_model, graph_optimizer, t, m); },
                        batches[0], mask);
  for (const auto& tokens : batches) {
    graph_losses.push_back(captured.replay(tokens, mask).lm.item<double>());
    graph_optimizer.clip_and_step(1e-2, 1.0);
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_NEAR(graph_losses[i], eager_losses[i], 1e-3 * std::abs(eager_losses[i])) << "step " << i;
  }
  EXPECT_NE(eager_losses[0], eager_losses[2]) << "the batches differ";
  const auto eager_params = eager_model->named_parameters();
  const auto graph_params = graph_model->named_parameters();
  const auto initial = reference.named_parameters();
  for (const auto& item : eager_params) {
    const torch::Tensor& replayed = graph_params[item.key()];
    EXPECT_LE(relative_error(replayed, item.value()), 1e-3) << item.key();
    const double moved = (replayed.cpu() - initial[item.key()]).abs().max().item<double>();
    if (replayed.requires_grad()) {
      EXPECT_GT(moved, 0.0) << item.key() << " trained";
    } else {
      EXPECT_EQ(moved, 0.0) << item.key() << " is frozen";
    }
  }
  if (policy != nullptr) {
    expect_replays_read_the_cached_frozen_stack(*graph_model, captured, batches[0], mask, options);
  }
}

TEST(CapturedStepCuda, ReplayedStepsTrainAsEagerStepsDo) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::kTorchAtLeast2_8) GTEST_SKIP() << "the per-expert loop synchronises with the host: nothing to capture";
  expect_replayed_steps_train_as_eager_steps_do(model::MoeTransformer(small_config()), nullptr);
}

// A growth phase: an older expert group and the shared weights frozen. The frozen group's weight stacks are cached
// between steps (model/expert_stack_cache.h) and kept by the graph; replays must still train exactly as eager steps.
TEST(CapturedStepCuda, ReplayedGrowthPhaseStepsTrainAsEagerStepsDo) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::kTorchAtLeast2_8) GTEST_SKIP() << "the per-expert loop synchronises with the host: nothing to capture";
  const model::TrainablePolicy growth{model::GatePolicy::kAll, model::SharedPolicy::kFrozen,
                                      model::ExpertPolicy::kNewest, std::nullopt};
  expect_replayed_steps_train_as_eager_steps_do(model::MoeTransformer(small_config(), {8, 8}, /*initialise=*/true),
                                                &growth);
}

// What would make a capture fail part-way, or replay stale random numbers, is refused up front with the reason.
TEST(CapturedStepCuda, RouterNoiseAndTheHostSynchronisingExpertLoopAreNotCaptured) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device cuda(torch::kCUDA);
  model::ModelConfig config = small_config();
  config.router_noise_std = 0.1;
  const model::MoeTransformer noisy(config);
  EXPECT_NE(CapturedStep::why_not(noisy, cuda, true).find("router noise"), std::string::npos);
  const model::MoeTransformer plain(small_config());
  EXPECT_NE(CapturedStep::why_not(plain, cuda, /*bf16_autocast=*/false).find("fp32 compute"), std::string::npos);
  config = small_config();
  config.d_expert = 100;
  const model::MoeTransformer odd(config);
  EXPECT_NE(CapturedStep::why_not(odd, cuda, true).find("not a multiple of 8"), std::string::npos);
}

}  // namespace
}  // namespace grove::orch
