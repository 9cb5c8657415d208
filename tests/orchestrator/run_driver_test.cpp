// What a run's record says after it stopped without finishing: an error escaping a phase is recorded as the run's
// failure with the message (ticks go on with other runs, and resume it once the cause is gone), and a run whose
// process was killed before it could record anything reads as interrupted, not running.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;

class RunDriver : public RunFixture {};

// The error events of run `name`.
std::vector<registry::EventRow> error_events(registry::Database& db, const std::string& name) {
  std::vector<registry::EventRow> errors;
  for (const auto& event : registry::list_events(db, registry::require_run(db, name).id)) {
    if (event.kind == "error") errors.push_back(event);
  }
  return errors;
}

TEST_F(RunDriver, AnErrorEscapingAPhaseIsRecordedAsTheRunsFailureTicksGoOnWithOtherRunsThenResumeIt) {
  const auto experiment = write_experiment();
  // A file where phase 1's checkpoint folder goes: its first checkpoint fails, as on a full or broken disk.
  const auto block_phase_1 = [&](const std::string& run) {
    const auto blocker = dir_ / "work" / run / "phase-1";
    std::filesystem::create_directories(blocker.parent_path());
    std::ofstream(blocker) << "in the way\n";
    return blocker;
  };
  const auto blocker = block_phase_1(kTinyRun);

  const auto failed = grove({"run", experiment.string()});
  EXPECT_NE(failed.exit_code, 0) << failed.err;
  EXPECT_NE(failed.err.find("phase-1"), std::string::npos) << failed.err;
  {
    auto db = open_registry();
    const auto run = registry::require_run(db, kTinyRun);
    EXPECT_EQ(run.status, registry::RunStatus::kFailed) << "not left 'running'";
    const auto errors = error_events(db, kTinyRun);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].level, log::Level::kError);
    EXPECT_NE(errors[0].message.find("phase 1: "), std::string::npos) << errors[0].message;
    EXPECT_NE(errors[0].message.find(blocker.string()), std::string::npos) << errors[0].message;
    EXPECT_EQ(registry::find_phase(db, run.id, 0)->status, registry::PhaseStatus::kDone);
    EXPECT_EQ(registry::find_phase(db, run.id, 1)->status, registry::PhaseStatus::kPending) << "left to resume";
  }
  const auto shown = grove({"registry", "runs", "--registry", registry_path().string(), "--format", "json"});
  EXPECT_NE(shown.out.find("\"status\": \"failed\""), std::string::npos) << shown.out;

  // A second run stopped the same way, its cause then gone: a tick meets the first run's error again (recorded
  // once) and goes on to the second, which it resumes.
  const auto other_blocker = block_phase_1("other-grove");
  EXPECT_NE(grove({"run", experiment.string(), "--set", "name=other"}).exit_code, 0);
  std::filesystem::remove(other_blocker);
  const std::vector<std::string> tick = {"tick", "--registry", registry_path().string()};
  const auto blocked = grove(tick);
  EXPECT_EQ(blocked.exit_code, 1) << blocked.err;
  EXPECT_NE(blocked.out.find("ran 1 phase(s); run 'tiny-grove' failed: "), std::string::npos) << blocked.out;
  EXPECT_NE(blocked.out.find(blocker.string()), std::string::npos) << blocked.out;
  {
    auto db = open_registry();
    EXPECT_EQ(error_events(db, kTinyRun).size(), 1u) << "the same error twice is recorded once";
    const auto other = registry::require_run(db, "other-grove");
    EXPECT_EQ(registry::find_phase(db, other.id, 1)->status, registry::PhaseStatus::kDone);
    EXPECT_EQ(other.status, registry::RunStatus::kPending) << "phase 2 waits for the next tick";
  }

  // The cause gone, the next tick takes the failed run up again (its phases are intact) and runs phase 1.
  std::filesystem::remove(blocker);
  const auto resumed = grove(tick);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("ran 1 phase(s)"), std::string::npos) << resumed.out;
  auto db = open_registry();
  const auto run = registry::require_run(db, kTinyRun);
  EXPECT_EQ(registry::find_phase(db, run.id, 1)->status, registry::PhaseStatus::kDone);
  EXPECT_EQ(run.status, registry::RunStatus::kPending);
}

TEST_F(RunDriver, ARunKilledMidPhaseReadsAsInterruptedNotRunning) {
  const auto experiment = write_experiment();
  testing::BackgroundProcess process(testing::grove_binary(),
                                     {"run", experiment.string(), "--set", "training.base_steps=2000"},
                                     (dir_ / "killed").string());
  bool training = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (!training && process.running() && std::chrono::steady_clock::now() < deadline) {
    try {
      if (std::filesystem::exists(registry_path())) {
        auto db = open_registry();
        if (const auto run = registry::find_run(db, kTinyRun)) {
          const auto phase = registry::find_phase(db, run->id, 0);
          training = phase && phase->status == registry::PhaseStatus::kTraining && phase->steps_done >= 2 &&
                     run->status == registry::RunStatus::kRunning;  // its process holds the lock: running
        }
      }
    } catch (const std::exception&) {
      // the writer may be creating the schema right now
    }
    if (!training) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(training) << "phase 0 never trained: " << process.wait().err;
  process.signal(SIGKILL);  // nothing is recorded: the registry still says 'running'
  EXPECT_EQ(process.wait().exit_code, 128 + SIGKILL);

  const auto shown = grove({"registry", "runs", "--registry", registry_path().string(), "--format", "json"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"status\": \"interrupted\""), std::string::npos) << shown.out;
  auto db = open_registry();
  EXPECT_EQ(registry::require_run(db, kTinyRun).status, registry::RunStatus::kInterrupted);
}

}  // namespace
}  // namespace grove
