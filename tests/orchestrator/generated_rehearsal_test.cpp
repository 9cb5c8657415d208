// Generated rehearsal: the previous model's pool is a pure function of its seed, starts each segment from the
// distribution's own tokens and deals rows to the earlier distributions in turn; the batches carry the pool's rows
// last with their targets masked out; the pool round-trips through disk and a damaged one is refused; the training
// loss distils on the rehearsal rows only, and its language-model term reads the new rows alone.
#include "orchestrator/generated_rehearsal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/errors.h"
#include "orchestrator/training_loss.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model_config.h"

namespace grove::orch {
namespace {

using grove::testing::tiny_config;

// Weights that allow only `token`.
torch::Tensor only(int64_t token) {
  auto weights = torch::zeros({96}, torch::kLong);
  weights[token] = 5;
  return weights;
}

RehearsalSettings small_pool(uint64_t seed) {
  RehearsalSettings settings;
  settings.rows = 6;
  settings.width = 15;
  settings.segment = 4;
  settings.seed = seed;
  return settings;
}

TEST(GeneratedRehearsal, PoolIsSeededStartsFromEachDistributionsTokensAndDealsRowsInTurn) {
  model::MoeTransformer model(tiny_config());
  const auto pool = generate_rehearsal_pool(model, {only(7), only(11)}, small_pool(3));
  ASSERT_EQ(pool.sizes(), (std::vector<int64_t>{6, 15}));
  EXPECT_TRUE(torch::equal(pool, generate_rehearsal_pool(model, {only(7), only(11)}, small_pool(3))));
  EXPECT_FALSE(torch::equal(pool, generate_rehearsal_pool(model, {only(7), only(11)}, small_pool(4))));
  for (int64_t row = 0; row < 6; ++row) {
    for (int64_t start = 0; start < 15; start += 4) {  // every segment of 4 tokens starts from its distribution's
      EXPECT_EQ(pool[row][start].item<int64_t>(), row % 2 == 0 ? 7 : 11) << "row " << row << " position " << start;
    }
  }
  EXPECT_GT(std::get<0>(torch::_unique(pool)).numel(), 2) << "the model continues each start token by sampling";
  EXPECT_TRUE(model.is_training()) << "the model's mode is restored";
}

TEST(GeneratedRehearsal, RefusesNoDistributionAndWeightsWithNothingToDraw) {
  model::MoeTransformer model(tiny_config());
  EXPECT_THROW(generate_rehearsal_pool(model, {}, small_pool(1)), std::invalid_argument);
  EXPECT_THROW(generate_rehearsal_pool(model, {torch::zeros({96}, torch::kLong)}, small_pool(1)),
               std::invalid_argument);
}

TEST(GeneratedRehearsal, RowsPerBatchRoundTheShareButKeepOneRowOfEachKind) {
  EXPECT_EQ(rehearsal_rows(8, 0.0), 0);
  EXPECT_EQ(rehearsal_rows(8, 0.25), 2);
  EXPECT_EQ(rehearsal_rows(16, 0.25), 4);
  EXPECT_EQ(rehearsal_rows(8, 0.01), 1);
  EXPECT_EQ(rehearsal_rows(4, 0.95), 3);
  EXPECT_EQ(rehearsal_rows(1, 0.5), 0) << "a batch of one row has no room for both";
}

TEST(GeneratedRehearsal, BatchesCarryPoolRowsLastWithTheirTargetsMaskedOut) {
  const auto pool = torch::arange(3 * 5, torch::kLong).view({3, 5}) + 100;
  data::BatchSource base = [](uint64_t index) -> std::optional<data::TokenBatch> {
    auto batch = data::make_token_batch(2, 5, static_cast<int64_t>(index));
    std::fill(batch.target_mask.begin(), batch.target_mask.end(), 1);
    return batch;
  };
  const auto source = with_rehearsal_rows(base, pool, 2);
  const auto batch = source(1);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->rows, 4);
  ASSERT_EQ(batch->tokens.size(), 20u);
  ASSERT_EQ(batch->target_mask.size(), 16u);
  EXPECT_EQ(batch->tokens[0], 1) << "the new data's rows first, as the base gave them";
  EXPECT_EQ(batch->tokens[10], pool[2][0].item<int64_t>()) << "batch 1 takes pool rows 2 and 0 (modulo the pool)";
  EXPECT_EQ(batch->tokens[15], pool[0][0].item<int64_t>());
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(batch->target_mask[i], i < 8 ? 1 : 0) << i;
  EXPECT_THROW(with_rehearsal_rows(base, torch::zeros({3, 6}, torch::kLong), 1)(0), std::logic_error)
      << "pool rows of another width";
}

TEST(GeneratedRehearsal, PoolRoundTripsThroughDiskAndADamagedOneIsRefused) {
  grove::testing::TempDir dir;
  const auto path = rehearsal_pool_path(dir.path(), 2);
  EXPECT_EQ(path, dir.path() / "rehearsal" / "phase-2.safetensors");
  const auto pool = torch::randint(0, 96, {4, 9}, torch::kLong);
  save_rehearsal_pool(path, pool);
  EXPECT_TRUE(torch::equal(load_rehearsal_pool(path, 4, 9, 96), pool));
  EXPECT_THROW(load_rehearsal_pool(path, 4, 10, 96), CheckpointError) << "another width";
  EXPECT_THROW(load_rehearsal_pool(path, 4, 9, 50), CheckpointError) << "ids beyond the vocabulary";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not safetensors";
  EXPECT_THROW(load_rehearsal_pool(path, 4, 9, 96), CheckpointError);
}

TEST(GeneratedRehearsal, LossDistilsOnTheRehearsalRowsAndTrainsTheLanguageModelOnTheOthers) {
  model::MoeTransformer student(tiny_config(1)), teacher(tiny_config(2));
  teacher.eval();
  const auto tokens = torch::randint(0, 96, {4, 9}, torch::kLong);
  const auto inputs = tokens.slice(1, 0, 8), targets = tokens.slice(1, 1, 9);
  auto mask = torch::ones({4, 8});
  mask.slice(0, 3).zero_();  // the last row is rehearsal: its targets are masked out, as the batches do
  TrainingLossOptions options;
  options.rehearsal_rows = 1;
  options.rehearsal_weight = 0.5;
  student.eval();  // no router noise: the same forward each time
  const auto with = training_loss(student, &teacher, inputs, targets, mask, options);
  const auto own = training_loss(student, nullptr, inputs.slice(0, 0, 3), targets.slice(0, 0, 3),
                                 mask.slice(0, 0, 3), TrainingLossOptions{});
  EXPECT_NEAR(with.lm.item<double>(), own.lm.item<double>(), 1e-6) << "the LM term reads the new rows alone";
  EXPECT_GT(with.kd.item<double>(), 0.0);
  EXPECT_NEAR(with.total.item<double>(), with.lm.item<double>() + with.aux.item<double>() + with.kd.item<double>(),
              1e-6);
  const auto self = training_loss(student, &student, inputs, targets, mask, options);
  EXPECT_NEAR(self.kd.item<double>(), 0.0, 1e-6) << "nothing to distil from an identical teacher";
  options.rehearsal_rows = 4;
  EXPECT_THROW(training_loss(student, &teacher, inputs, targets, mask, options), std::invalid_argument);
}

}  // namespace
}  // namespace grove::orch
