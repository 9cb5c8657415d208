// What a phase without old data keeps of the earlier distributions: their sketches round-trip through disk, the
// routing-isolation loss moves new experts out of the old tokens' top-k and into the new tokens' first place, and
// the token-row mask keeps every earlier distribution's embedding and LM-head row bit for bit through AdamW with
// weight decay while the other rows train; projected updates of the shared maps leave their outputs on earlier
// inputs (nearly) as they were while outputs on other inputs change.
#include "orchestrator/routing_isolation.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/errors.h"
#include "model/growth.h"
#include "orchestrator/adamw.h"
#include "orchestrator/distribution_sketch.h"
#include "orchestrator/orthogonal_updates.h"
#include "orchestrator/token_rows.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model_config.h"

namespace grove::orch {
namespace {

using grove::testing::tiny_config;

// Token ids in [low, high): an "old" distribution uses the lower half of the vocabulary, a "new" one the upper.
torch::Tensor tokens_in(int64_t low, int64_t high, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  return torch::randint(low, high, {8, 16}, generator, torch::kLong);
}

// Two distributions a model can tell apart, as real ones are: the old tokens' embeddings use the first 16 of the
// 32 dimensions, the new tokens' the last 16 (the untrained tiny model's inputs would otherwise look alike).
std::shared_ptr<model::MoeTransformer> separated_model() {
  auto network = std::make_shared<model::MoeTransformer>(tiny_config());
  torch::NoGradGuard no_grad;
  network->embedding().slice(0, 0, 48).slice(1, 16, 32).zero_();
  network->embedding().slice(0, 48, 96).slice(1, 0, 16).zero_();
  return network;
}

// The router inputs of `tokens`; with autograd history when `with_grad` (as training_loss hands them over).
std::vector<torch::Tensor> router_inputs(model::MoeTransformer& model, const torch::Tensor& tokens,
                                         bool with_grad = false) {
  torch::AutoGradMode grad_mode(with_grad);
  std::vector<torch::Tensor> inputs;
  model::ForwardOptions options;
  options.router_inputs = &inputs;
  model.forward(tokens, options);
  return inputs;
}

// The sketch of the distribution of tokens in [low, high) under `model`.
DistributionSketch sketch_of(model::MoeTransformer& model, int64_t low, int64_t high) {
  SketchAccumulator accumulator;
  for (uint64_t i = 0; i < 8; ++i) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> router, attention;
    torch::Tensor head;
    model::ForwardOptions options;
    options.router_inputs = &router;
    options.attention_inputs = &attention;
    options.head_input = &head;
    model.forward(tokens_in(low, high, 100 + i), options);
    accumulator.add(router, attention, head);
  }
  DistributionSketch sketch = accumulator.finish();
  sketch.token_counts = torch::zeros({model.config().vocab_size}, torch::kLong);
  sketch.token_counts.slice(0, low, high).fill_(1000);
  return sketch;
}

DistributionSketch old_sketch(model::MoeTransformer& model) {
  return sketch_of(model, 0, 48);
}

std::shared_ptr<model::MoeTransformer> grown() {
  auto network = separated_model();
  model::ForwardOptions pre_pass;
  pre_pass.collect_routing = true;
  model::GrowthOptions growth;
  growth.n_per_layer = 2;
  growth.init = model::GrowthInit::kCopy;
  growth.parent_routing_counts = network->forward(tokens_in(48, 96, 1), pre_pass).routing_counts;
  growth.seed = 5;
  model::grow(*network, growth);
  return network;
}

// A phase after growth: the old distribution's sketch (measured on the base model) and the grown model with the
// `new_rows` gate, newest experts and `shared` policy applied.
struct GrowthPhase {
  DistributionSketch sketch;
  std::shared_ptr<model::MoeTransformer> model;
};
GrowthPhase growth_phase(model::SharedPolicy shared) {
  auto base = separated_model();
  GrowthPhase phase{old_sketch(*base), grown()};
  phase.model->apply_trainable_policy(
      {model::GatePolicy::kNewRows, shared, model::ExpertPolicy::kNewest, std::nullopt});
  return phase;
}

// Share of (layer, token) pairs of `tokens` whose top-k holds an expert of the newest group; and whose first
// choice is one.
struct Routing {
  double new_in_top_k = 0;
  double new_first = 0;
};
Routing routing_of(model::MoeTransformer& model, const torch::Tensor& tokens) {
  const auto inputs = router_inputs(model, tokens);
  Routing routing;
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    const auto& moe = model.layer(layer).moe();
    std::vector<torch::Tensor> rows;
    for (size_t g = 0; g < moe.n_groups(); ++g) rows.push_back(moe.group(g).gate_weight());
    const torch::Tensor logits = inputs[static_cast<size_t>(layer)].matmul(torch::cat(rows, 0).t());
    const int64_t first_new = moe.first_slot(moe.n_groups() - 1);
    const torch::Tensor top = std::get<1>(logits.topk(model.config().top_k, 1));
    routing.new_in_top_k += (top >= first_new).any(1).to(torch::kDouble).mean().item<double>();
    routing.new_first += (top.select(1, 0) >= first_new).to(torch::kDouble).mean().item<double>();
  }
  routing.new_in_top_k /= static_cast<double>(model.n_layers());
  routing.new_first /= static_cast<double>(model.n_layers());
  return routing;
}

// Five AdamW steps (clipping at 1.0) of next-token loss on tokens in [low, high), with `before` and `after`
// around each optimizer step as the trainer's hooks run them.
void train_steps(model::MoeTransformer& model, AdamW& optimizer, int64_t low, int64_t high, uint64_t seed,
                 const std::function<void()>& before, const std::function<void()>& after) {
  model.train();
  for (uint64_t step = 0; step < 5; ++step) {
    const torch::Tensor tokens = tokens_in(low, high, seed + step);
    const auto out = model.forward(tokens.slice(1, 0, 15));
    const torch::Tensor loss =
        torch::cross_entropy_loss(out.logits.reshape({-1, 96}), tokens.slice(1, 1).reshape({-1}));
    optimizer.zero_grad();
    loss.backward();
    before();
    optimizer.clip_and_step(1e-2, 1.0);
    after();
  }
}

// 200 AdamW steps of the isolation loss alone, on the router inputs of the phase's own tokens, in [low, high).
void isolation_steps(model::MoeTransformer& model, const RoutingIsolation& isolation, int64_t low, int64_t high,
                     uint64_t seed) {
  AdamW optimizer(model.named_trainable_parameters(), AdamWOptions{});
  for (uint64_t step = 0; step < 200; ++step) {
    const torch::Tensor loss =
        isolation.loss(model, router_inputs(model, tokens_in(low, high, seed + step), /*with_grad=*/true));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step(1e-2);
  }
}

TEST(RoutingIsolation, NewExpertsLeaveTheOldTokensTopKAndTakeTheNewTokensFirstPlace) {
  const auto [sketch, model] = growth_phase(model::SharedPolicy::kFrozen);
  const torch::Tensor old_tokens = tokens_in(0, 48, 900), new_tokens = tokens_in(48, 96, 901);
  const Routing before_old = routing_of(*model, old_tokens);
  ASSERT_GT(before_old.new_in_top_k, 0.2) << "copied gate rows start inside the old tokens' top-k";

  const RoutingIsolation isolation(*model, 1, {sketch}, 11);
  const double leaked_before = isolation.leaked_share(*model);
  isolation_steps(*model, isolation, 48, 96, 2000);
  const Routing after_old = routing_of(*model, old_tokens);
  const Routing after_new = routing_of(*model, new_tokens);
  // Random-token distributions overlap where attention mixes positions, so some tokens stay ambiguous; on the
  // sketch's samples and on real old tokens alike, the new experts leave at least three in four of the places they
  // held in the old tokens' top-k, and become the new tokens' first choice.
  EXPECT_LT(isolation.leaked_share(*model), 0.25 * leaked_before);
  EXPECT_LT(after_old.new_in_top_k, 0.25 * before_old.new_in_top_k) << "real old tokens, not only the sketch's samples";
  EXPECT_GT(after_new.new_first, 0.9);
  // The loss reaches the gate rows only: the new experts' weights have no gradient from it.
  for (const auto& [name, tensor] : model->named_trainable_parameters()) {
    if (name.find(".w") != std::string::npos) {
      EXPECT_TRUE(!tensor.grad().defined() || tensor.grad().abs().max().item<double>() == 0.0) << name;
    }
  }
}

// A phase without growth that trains the base group (its data is like the old distribution's): isolation keeps the
// base experts out of the top-k of the distribution the grown group is for and makes them the first choice of the
// phase's tokens; the grown group's rows, frozen, do not move.
TEST(RoutingIsolation, AnOlderTrainedGroupLeavesTheOtherDistributionsTopKAndTakesItsOwnTokens) {
  auto model = grown();
  const DistributionSketch new_sketch = sketch_of(*model, 48, 96);
  model->apply_trainable_policy(
      {model::GatePolicy::kNewRows, model::SharedPolicy::kFrozen, model::ExpertPolicy::kNewest, 0});
  const torch::Tensor grown_rows = model->layer(0).moe().group(1).gate_weight().detach().clone();
  // Share of (layer, token) pairs of `tokens` with a base expert in their top-k, and with one first.
  auto base_routing = [&](const torch::Tensor& tokens) {
    const auto inputs = router_inputs(*model, tokens);
    std::pair<double, double> shares{0.0, 0.0};
    for (int64_t layer = 0; layer < model->n_layers(); ++layer) {
      const auto& moe = model->layer(layer).moe();
      const torch::Tensor logits = inputs[static_cast<size_t>(layer)].matmul(
          torch::cat({moe.group(0).gate_weight(), moe.group(1).gate_weight()}, 0).t());
      const torch::Tensor top = std::get<1>(logits.topk(model->config().top_k, 1));
      const int64_t grown_first = moe.first_slot(1);
      shares.first += (top < grown_first).any(1).to(torch::kDouble).mean().item<double>();
      shares.second += (top.select(1, 0) < grown_first).to(torch::kDouble).mean().item<double>();
    }
    const auto layers = static_cast<double>(model->n_layers());
    return std::make_pair(shares.first / layers, shares.second / layers);
  };
  const torch::Tensor other_tokens = tokens_in(48, 96, 910), own_tokens = tokens_in(0, 48, 911);
  const double in_other_before = base_routing(other_tokens).first;
  ASSERT_GT(in_other_before, 0.5) << "the base experts start inside the other distribution's top-k";

  const RoutingIsolation isolation(*model, 0, {new_sketch}, 12);
  EXPECT_EQ(isolation.group(), 0u);
  const double leaked_before = isolation.leaked_share(*model);
  isolation_steps(*model, isolation, 0, 48, 3000);
  EXPECT_LT(isolation.leaked_share(*model), 0.25 * leaked_before);
  EXPECT_LT(base_routing(other_tokens).first, 0.25 * in_other_before) << "real tokens, not only the sketch's";
  EXPECT_GT(base_routing(own_tokens).second, 0.9);
  EXPECT_TRUE(torch::equal(model->layer(0).moe().group(1).gate_weight(), grown_rows)) << "frozen rows stay";
}

TEST(TokenRowMask, EarlierDistributionsRowsStayBitIdenticalThroughAdamWWithWeightDecay) {
  const auto [sketch, model] = growth_phase(model::SharedPolicy::kNewTokenRows);
  const torch::Tensor embed_before = model->embedding().detach().clone();
  const torch::Tensor head_before = model->lm_head().detach().clone();
  const torch::Tensor q_before = model->layer(0).attention().named_parameters()["q_proj"].detach().clone();
  TokenRowMask mask(*model, {sketch});
  EXPECT_EQ(mask.trainable_rows(), 48);
  AdamWOptions options;
  options.weight_decay = 0.1;
  AdamW optimizer(model->named_trainable_parameters(), options);
  train_steps(
      *model, optimizer, 0, 96, 300, [&] { mask.mask_gradients(); }, [&] { mask.restore_rows(); });
  EXPECT_TRUE(torch::equal(model->embedding().slice(0, 0, 48), embed_before.slice(0, 0, 48)));
  EXPECT_TRUE(torch::equal(model->lm_head().slice(0, 0, 48), head_before.slice(0, 0, 48)));
  EXPECT_FALSE(torch::equal(model->embedding().slice(0, 48), embed_before.slice(0, 48)));
  EXPECT_FALSE(torch::equal(model->lm_head().slice(0, 48), head_before.slice(0, 48)));
  EXPECT_TRUE(torch::equal(model->layer(0).attention().named_parameters()["q_proj"], q_before));
}

TEST(OrthogonalUpdates, PrincipalBasisHoldsTheAskedEnergyOfTheNormalisedMoments) {
  // Traces 4 and 1; normalised and summed: diag(0.75, 0.25, 0) + diag(0, 0.5, 0.5) = diag(0.75, 0.75, 0.5),
  // cumulative energy shares 0.375, 0.75, 1.
  const torch::Tensor a = torch::diag(torch::tensor({3.0, 1.0, 0.0}));
  const torch::Tensor b = torch::diag(torch::tensor({0.0, 0.5, 0.5}));
  EXPECT_EQ(principal_basis({a, b}, 0.5).size(1), 2);
  EXPECT_EQ(principal_basis({a, b}, 0.8).size(1), 3);
  const torch::Tensor one = principal_basis({a}, 0.7);
  ASSERT_EQ(one.size(1), 1);
  EXPECT_NEAR(std::abs(one[0][0].item<double>()), 1.0, 1e-6) << "the direction of the largest eigenvalue";
}

TEST(OrthogonalUpdates, EarlierInputsKeepTheirOutputsWhileOtherInputsChange) {
  const auto [sketch, model] = growth_phase(model::SharedPolicy::kOrthogonal);
  EXPECT_FALSE(model->layer(0).attention().named_parameters()["o_proj"].requires_grad());
  EXPECT_TRUE(model->layer(0).attention().named_parameters()["q_proj"].requires_grad());
  OrthogonalUpdates orthogonal(*model, {sketch});
  TokenRowMask rows(*model, {sketch}, /*with_head=*/false);
  ASSERT_GT(orthogonal.attention_free_directions()[0], 0);
  auto head_and_attention_inputs = [&](const torch::Tensor& tokens) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> attention;
    torch::Tensor head;
    model::ForwardOptions options;
    options.attention_inputs = &attention;
    options.head_input = &head;
    model->forward(tokens, options);
    return std::make_pair(attention[0].reshape({-1, 32}), head.reshape({-1, 32}));
  };
  const auto [old_attention, old_head] = head_and_attention_inputs(tokens_in(0, 48, 700));
  const auto [new_attention, new_head] = head_and_attention_inputs(tokens_in(48, 96, 701));
  const torch::Tensor q_before = model->layer(0).attention().named_parameters()["q_proj"].detach().clone();
  const torch::Tensor head_before = model->lm_head().detach().clone();
  AdamW optimizer(model->named_trainable_parameters(), AdamWOptions{});
  train_steps(
      *model, optimizer, 48, 96, 400,
      [&] {
        rows.mask_gradients();
        orthogonal.before_step();
      },
      [&] {
        orthogonal.after_step();
        rows.restore_rows();
      });
  const torch::Tensor dq = model->layer(0).attention().named_parameters()["q_proj"].detach() - q_before;
  const torch::Tensor dhead = (model->lm_head().detach() - head_before).slice(0, 0, 48);  // earlier tokens' rows
  ASSERT_GT(dq.norm().item<double>(), 0.0) << "q_proj trained";
  auto effect = [](const torch::Tensor& update, const torch::Tensor& inputs) {
    return update.matmul(inputs.t()).norm().item<double>() / inputs.norm().item<double>();
  };
  // Layer 0's attention input of the old tokens lies in the 16 dimensions of their embeddings: the projected q
  // update leaves their queries unchanged, while it does change the new tokens'. The LM head's input mixes every
  // dimension; its update still acts far less on the old inputs than on the new ones.
  EXPECT_LT(effect(dq, old_attention), 1e-3 * effect(dq, new_attention));
  EXPECT_LT(effect(dhead, old_head), 0.5 * effect(dhead, new_head));
  EXPECT_TRUE(torch::equal(model->embedding().slice(0, 0, 48), separated_model()->embedding().slice(0, 0, 48)))
      << "earlier tokens' embedding rows are kept";
}

TEST(DistributionSketch, RoundTripsThroughItsFileAndNamesAFileOfTheWrongShape) {
  auto model = std::make_shared<model::MoeTransformer>(tiny_config());
  const DistributionSketch sketch = old_sketch(*model);
  grove::testing::TempDir dir("grove-sketch");
  const auto path = sketch_path(dir.path(), 3);
  EXPECT_EQ(path.filename(), "phase-3.safetensors");
  save_sketch(path, sketch);
  const auto loaded = load_sketch(path, 2, 32, 96);
  for (size_t layer = 0; layer < 2; ++layer) {
    EXPECT_TRUE(torch::equal(loaded.mean[layer], sketch.mean[layer]));
    EXPECT_TRUE(torch::equal(loaded.factor[layer], sketch.factor[layer]));
    EXPECT_TRUE(torch::equal(loaded.attention_moment[layer], sketch.attention_moment[layer]));
    // The factor reproduces a covariance: positive diagonal, lower triangular.
    EXPECT_TRUE(torch::equal(loaded.factor[layer], loaded.factor[layer].tril()));
    EXPECT_GT(loaded.factor[layer].diagonal().min().item<double>(), 0.0);
  }
  EXPECT_TRUE(torch::equal(loaded.token_counts, sketch.token_counts));
  EXPECT_TRUE(torch::equal(loaded.head_moment, sketch.head_moment));
  try {
    load_sketch(path, 2, 64, 96);
    FAIL() << "a sketch of another width loaded";
  } catch (const CheckpointError& error) {
    EXPECT_NE(std::string(error.what()).find("phase-3.safetensors"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("layers.0.mean"), std::string::npos) << error.what();
  }
  EXPECT_THROW(load_sketch(dir.path() / "missing.safetensors", 2, 32, 96), CheckpointError);
}

}  // namespace
}  // namespace grove::orch
