// When the training loop writes its periodic checkpoints: every `checkpoint_every` steps, once
// `checkpoint_every_minutes` passed since the last checkpoint, or both. The clock is the test's own, advanced by a
// fixed amount per step, so which steps checkpoint is decided exactly and never by how fast the machine is.
#include <gtest/gtest.h>

#include <vector>

#include "orchestrator/trainer.h"
#include "tests/support/tiny_model_config.h"

namespace grove::orch {
namespace {

using grove::testing::tiny_config;

constexpr int64_t kRows = 2;
constexpr int64_t kSeqLen = 8;

data::BatchSource counting_batches() {
  return [](uint64_t index) -> std::optional<data::TokenBatch> {
    auto batch = data::make_token_batch(kRows, kSeqLen + 1);
    for (size_t i = 0; i < batch.tokens.size(); ++i) batch.tokens[i] = static_cast<int64_t>((index * 7 + i) % 90) + 3;
    std::fill(batch.target_mask.begin(), batch.target_mask.end(), uint8_t{1});
    return batch;
  };
}

// The steps at which a phase of `total_steps` wrote a periodic checkpoint, with `seconds_per_step` passing on the
// trainer's clock during each step.
std::vector<int64_t> checkpoint_steps(int64_t total_steps, int64_t checkpoint_every, double minutes,
                                      double seconds_per_step) {
  auto network = std::make_shared<model::MoeTransformer>(tiny_config());
  AdamW optimizer(network->named_trainable_parameters(), AdamWOptions{});
  TrainingState state;
  state.total_steps = total_steps;
  double now = 1000.0;  // any origin: only differences count
  std::vector<int64_t> saved;
  TrainerHooks hooks;
  hooks.save_checkpoint = [&](CheckpointReason reason) {
    EXPECT_EQ(reason, CheckpointReason::kPeriodic);
    saved.push_back(state.step);
  };
  hooks.restore_last_checkpoint = [] { FAIL() << "no restore expected"; };
  hooks.after_step = [&] { now += seconds_per_step; };
  TrainerSettings settings;
  settings.batch_size = kRows;
  settings.seq_len = kSeqLen;
  settings.schedule.peak = 1e-3;
  settings.schedule.warmup_steps = 0;
  settings.schedule.total_steps = total_steps;
  settings.log_every = 1000;
  settings.checkpoint_every = checkpoint_every;
  settings.checkpoint_every_minutes = minutes;
  settings.clock = [&] { return now; };
  Trainer trainer(network, nullptr, optimizer, counting_batches(), settings, DevicePlan{}, state, hooks,
                  at::detail::createCPUGenerator(5));
  EXPECT_EQ(trainer.run(), TrainOutcome::kCompleted);
  EXPECT_EQ(state.step, total_steps);
  return saved;
}

TEST(CheckpointInterval, MinutesAloneCheckpointOnceThatMuchTimePassedSinceTheLastOne) {
  // 25 s a step, one minute apart: due after 75 s, at steps 3, 6, 9, 12; the last step is the phase end's.
  EXPECT_EQ(checkpoint_steps(15, 0, 1.0, 25.0), (std::vector<int64_t>{3, 6, 9, 12}));
  // 30 s a step: exactly one minute after steps 2, 4, ... counts as due.
  EXPECT_EQ(checkpoint_steps(7, 0, 1.0, 30.0), (std::vector<int64_t>{2, 4, 6}));
}

TEST(CheckpointInterval, MinutesAndStepsTogetherCountFromWhicheverCheckpointWasLast) {
  // Steps 5 and 10 by count; by time 60 s after the last checkpoint of either kind: 3 (75 s after the start),
  // 8 (75 s after step 5), 13 (75 s after step 10).
  EXPECT_EQ(checkpoint_steps(15, 5, 1.0, 25.0), (std::vector<int64_t>{3, 5, 8, 10, 13}));
}

TEST(CheckpointInterval, WithMinutesOffOnlyTheStepCountDecidesHoweverSlowTheSteps) {
  EXPECT_EQ(checkpoint_steps(12, 5, 0.0, 3600.0), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(checkpoint_steps(12, 0, 0.0, 3600.0), (std::vector<int64_t>{})) << "both off: no periodic checkpoint";
  EXPECT_EQ(checkpoint_steps(12, 0, 10.0, 1.0), (std::vector<int64_t>{})) << "12 s never reach ten minutes";
}

}  // namespace
}  // namespace grove::orch
