// Crash safety: a run stopped by SIGTERM mid-phase and resumed ends bit-identical to an uninterrupted run with the
// same seed (CPU); a non-finite loss is recovered from the last checkpoint, and three in a row fail the phase.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <csignal>

#include "registry/train_metrics.h"
#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;

class Resume : public RunFixture {};

TEST_F(Resume, SigtermMidPhaseThenResumeEqualsAnUninterruptedRun) {
  const std::string longer = "--set=training.steps=60";
  // Uninterrupted reference in its own folder.
  testing::TempDir reference_dir("grove-ref");
  const auto reference_yaml = testing::write_file(
      reference_dir / "tiny.yaml", testing::read_file(write_experiment()));
  ASSERT_EQ(grove({"run", reference_yaml.string(), longer}).exit_code, 0);

  // Interrupted run: SIGTERM while phase 1 trains.
  const auto experiment = write_experiment();
  registry::PhaseTimes before_resume;
  {
    const auto stopped = run_until_sigterm({"run", experiment.string(), longer}, 1, 10);
    EXPECT_EQ(stopped.exit_code, 143) << stopped.err;
    EXPECT_NE(stopped.err.find("interrupted at step"), std::string::npos) << stopped.err;
  }
  {
    auto db = open_registry();
    const auto run = registry::require_run(db, kTinyRun);
    EXPECT_EQ(run.status, registry::RunStatus::kInterrupted);
    const auto phase = registry::find_phase(db, run.id, 1);
    EXPECT_EQ(phase->status, registry::PhaseStatus::kInterrupted);
    EXPECT_LT(phase->steps_done, 60);
    bool interrupt_checkpoint = false;
    for (const auto& row : registry::list_checkpoints(db, run.id, phase->id)) {
      interrupt_checkpoint = interrupt_checkpoint || row.kind == registry::CheckpointKind::kInterrupt;
    }
    EXPECT_TRUE(interrupt_checkpoint);
    // The time the interrupted attempt spent is kept, its tokens those of the steps the interrupt checkpoint holds.
    const auto times = registry::find_phase_times(db, phase->id);
    ASSERT_TRUE(times.has_value());
    EXPECT_EQ(times->train_tokens, phase->steps_done * 4 * 32);
    EXPECT_GT(times->training_s, 0);
    EXPECT_GT(times->checkpoint_s, 0) << "the step-0 and the interrupt checkpoint";
    before_resume = *times;
  }
  const auto resumed = grove({"run", experiment.string(), longer});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming at step"), std::string::npos) << resumed.err;
  {
    // The resumed attempt adds to what the interrupted one recorded.
    auto db = open_registry();
    const auto phase = registry::find_phase(db, registry::require_run(db, kTinyRun).id, 1);
    const auto times = registry::find_phase_times(db, phase->id);
    ASSERT_TRUE(times.has_value());
    EXPECT_EQ(times->train_tokens, 60 * 4 * 32) << "each step's tokens once";
    EXPECT_GT(times->setup_s, before_resume.setup_s) << "the resume's own setup is added";
    EXPECT_GT(times->training_s, before_resume.training_s);
    EXPECT_GT(times->checkpoint_s, before_resume.checkpoint_s);
    EXPECT_GT(times->eval_s, before_resume.eval_s) << "the phase-end evaluation is added";
    EXPECT_GE(times->other_s, before_resume.other_s);
  }

  auto db = open_registry();
  auto reference_db = registry::Database::open(reference_dir / "grove.db", registry::OpenMode::kReadOnly);
  expect_same_results(db, reference_db);
}

// Every value a run records about phase `idx` of kTinyRun that does not measure time: its train_metrics rows (tokens
// per second and the row's time left out) and its steps_done, as text for a readable comparison.
std::string recorded_training(registry::Database& db, int64_t idx) {
  const auto phase = registry::find_phase(db, registry::require_run(db, kTinyRun).id, idx);
  std::string text = "steps_done " + std::to_string(phase->steps_done) + "\n";
  const auto exact = [](const std::optional<double>& value) { return value ? fmt::format("{:a}", *value) : "null"; };
  for (const auto& row : registry::list_train_metrics(db, phase->id)) {
    text += fmt::format("step {}: loss {} aux {} kd {} lr {} grad_norm {}\n", row.step, exact(row.loss),
                        exact(row.aux_loss), exact(row.kd_loss), exact(row.lr), exact(row.grad_norm));
  }
  return text;
}

// The phase's interrupt checkpoint row (ADD_FAILURE when it has none).
registry::CheckpointRow interrupt_checkpoint(registry::Database& db, int64_t idx) {
  const auto run = registry::require_run(db, kTinyRun);
  for (const auto& row : registry::list_checkpoints(db, run.id, registry::find_phase(db, run.id, idx)->id)) {
    if (row.kind == registry::CheckpointKind::kInterrupt) return row;
  }
  ADD_FAILURE() << "phase " << idx << " has no interrupt checkpoint";
  return {};
}

TEST_F(Resume, SigtermBetweenTwoLoggedStepsThenResumeRecordsEveryValueAnUninterruptedRunRecords) {
  // Logged every 4 steps: a run stopped at a step that was not logged, once resumed, logged the average loss of the
  // steps after the resume only, and its phase's steps_done stayed at the last logged step, behind the checkpoint.
  // Checkpointed every 5 steps, so a periodic checkpoint also falls between two logged steps (step 15, resumed from
  // below once the interrupt checkpoint after it is gone).
  const std::vector<std::string> settings = {"--set=training.log_every=4", "--set=training.steps=20"};
  const auto run_args = [&](const std::filesystem::path& experiment) {
    std::vector<std::string> args = {"run", experiment.string()};
    args.insert(args.end(), settings.begin(), settings.end());
    return args;
  };
  const auto stopped_at = [](const std::string& point) {
    testing::ProcessOptions options;
    options.env["GROVE_TEST_SIGTERM_AT"] = point;
    return options;
  };
  testing::TempDir reference_dir("grove-ref");
  const auto reference_yaml = testing::write_file(reference_dir / "tiny.yaml", testing::read_file(write_experiment()));
  ASSERT_EQ(testing::run_grove(run_args(reference_yaml)).exit_code, 0);

  const auto experiment = write_experiment();
  // Stopped after step 7 of phase 0 (16 steps): logged at 4, checkpointed at 5.
  auto result = testing::run_grove(run_args(experiment), stopped_at("step:7"));
  ASSERT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("phase 0 (en_science) interrupted at step 7 of 16"), std::string::npos) << result.err;
  {
    auto db = open_registry();
    EXPECT_EQ(interrupt_checkpoint(db, 0).step, 7);
    EXPECT_EQ(registry::find_phase(db, registry::require_run(db, kTinyRun).id, 0)->steps_done, 7)
        << "the step the interrupt checkpoint holds, not the last logged one";
  }
  // Resumed, then stopped after step 18 of phase 1 (20 steps): logged at 16, checkpointed at 15.
  result = testing::run_grove(run_args(experiment), stopped_at("step:18"));
  ASSERT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("phase 1 (de_computer) interrupted at step 18 of 20"), std::string::npos) << result.err;
  {
    auto db = open_registry();
    const auto checkpoint = interrupt_checkpoint(db, 1);
    EXPECT_EQ(checkpoint.step, 18);
    EXPECT_EQ(registry::find_phase(db, registry::require_run(db, kTinyRun).id, 1)->steps_done, 18);
    // Gone: the next run resumes from the periodic checkpoint at step 15, between the logged steps 12 and 16.
    std::filesystem::remove_all(checkpoint.path);
  }
  result = testing::run_grove(run_args(experiment));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("resuming at step 15 of 20"), std::string::npos) << result.err;

  auto db = open_registry();
  auto reference_db = registry::Database::open(reference_dir / "grove.db", registry::OpenMode::kReadOnly);
  for (int64_t idx = 0; idx < 3; ++idx) {
    EXPECT_EQ(recorded_training(db, idx), recorded_training(reference_db, idx)) << "phase " << idx;
  }
  expect_same_results(db, reference_db);
}

TEST_F(Resume, NonFiniteLossIsRecoveredAndThreeInARowFailThePhase) {
  const auto experiment = write_experiment();
  auto result = grove({"run", experiment.string(), "--inject-nan-at-step", "3"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  {
    auto db = open_registry();
    const auto run = registry::require_run(db, kTinyRun);
    int recoveries = 0;
    for (const auto& event : registry::list_events(db, run.id)) recoveries += event.kind == "nan_recovery" ? 1 : 0;
    EXPECT_EQ(recoveries, 3) << "one recovery in each of the three phases";
    EXPECT_EQ(run.status, registry::RunStatus::kDone);
  }

  testing::TempDir other("grove-nan");
  const auto failing = testing::write_file(other / "tiny.yaml", testing::read_file(experiment));
  result = grove({"run", failing.string(), "--inject-nan-at-step", "3", "--inject-nan-at-step", "3",
                  "--inject-nan-at-step", "3"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("non-finite 3 times in a row"), std::string::npos) << result.err;
  auto db = registry::Database::open(other / "grove.db", registry::OpenMode::kReadOnly);
  const auto run = registry::require_run(db, kTinyRun);
  EXPECT_EQ(run.status, registry::RunStatus::kFailed);
  EXPECT_EQ(registry::find_phase(db, run.id, 0)->status, registry::PhaseStatus::kFailed);
  // Its phase left no model to evaluate: bad input (exit 2) that says why, not a missing-checkpoint runtime error.
  const auto eval = grove({"eval", "--run", kTinyRun, "--phase", "0", "--registry", (other / "grove.db").string()});
  EXPECT_EQ(eval.exit_code, 2) << eval.err;
  EXPECT_NE(
      eval.err.find("phase 0 failed, so it has no model to evaluate; see `grove registry phases --run tiny-grove`"),
      std::string::npos)
      << eval.err;
  // The phase after it never started: likewise bad input, naming its status and what resumes it.
  ASSERT_EQ(registry::find_phase(db, run.id, 1)->status, registry::PhaseStatus::kPending);
  const auto pending = grove({"eval", "--run", kTinyRun, "--phase", "1", "--registry", (other / "grove.db").string()});
  EXPECT_EQ(pending.exit_code, 2) << pending.err;
  EXPECT_NE(pending.err.find("phase 1 is not finished (status pending), so it has no model to evaluate yet; "
                             "`grove run` resumes it"),
            std::string::npos)
      << pending.err;
  // Running it again does not retrain the failed phase; it says where to look, as a command that pastes.
  result = grove({"run", failing.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("failed earlier; see `grove registry phases --run tiny-grove` and its events"),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace grove
