// Pure pieces of the orchestrator: learning-rate schedule, growth decisions, training-state persistence,
// the scheduler lock, seeds.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "common/errors.h"
#include "orchestrator/growth_policy.h"
#include "orchestrator/lr_schedule.h"
#include "orchestrator/scheduler_lock.h"
#include "orchestrator/seeds.h"
#include "orchestrator/training_state.h"
#include "tests/support/temp_dir.h"

namespace grove::orch {
namespace {

TEST(LrSchedule, WarmsUpLinearlyThenFollowsTheCosineToTheFloor) {
  LrSchedule schedule{1e-3, 10, 110, 0.1};
  EXPECT_DOUBLE_EQ(schedule.at(0), 1e-4);
  EXPECT_DOUBLE_EQ(schedule.at(4), 5e-4);
  EXPECT_DOUBLE_EQ(schedule.at(9), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.at(10), 1e-3);                     // start of decay: the peak
  EXPECT_NEAR(schedule.at(60), 1e-3 * (0.1 + 0.9 * 0.5), 1e-12);  // halfway: cos = 0
  EXPECT_NEAR(schedule.at(110), 1e-4, 1e-12);                  // the floor
  EXPECT_NEAR(schedule.at(500), 1e-4, 1e-12);                  // stays there
  for (int64_t step = 11; step < 110; ++step) EXPECT_LT(schedule.at(step), schedule.at(step - 1));
}

TEST(LrSchedule, NoWarmupStartsAtThePeak) {
  LrSchedule schedule{2e-3, 0, 50, 0.0};
  EXPECT_DOUBLE_EQ(schedule.at(0), 2e-3);
  EXPECT_NEAR(schedule.at(50), 0.0, 1e-15);
}

TEST(GrowthPolicy, AlwaysAndNeverIgnoreTheEvidence) {
  NoveltyEvidence evidence{1.0, {5.0}};
  EXPECT_TRUE(decide_growth(GrowthMode::kAlways, 1.2, 2, evidence).grow);
  EXPECT_FALSE(decide_growth(GrowthMode::kNever, 1.2, 2, evidence).grow);
  EXPECT_FALSE(decide_growth(GrowthMode::kAlways, 1.2, 0, evidence).grow) << "0 experts per layer cannot grow";
}

TEST(GrowthPolicy, NoveltyComparesAgainstTheRatioOfTheSeenMeanAndExplainsWithNumbers) {
  // Seen mean 2.0; threshold at ratio 1.25 is 2.5.
  const auto novel = decide_growth(GrowthMode::kNovelty, 1.25, 4, {3.1, {1.5, 2.5}});
  EXPECT_TRUE(novel.grow);
  EXPECT_NE(novel.reason.find("3.1000 > 1.25 × seen mean 2.0000 = 2.5000"), std::string::npos) << novel.reason;
  EXPECT_NE(novel.reason.find("+4 experts"), std::string::npos) << novel.reason;
  const auto familiar = decide_growth(GrowthMode::kNovelty, 1.25, 4, {2.4, {1.5, 2.5}});
  EXPECT_FALSE(familiar.grow);
  EXPECT_NE(familiar.reason.find("2.4000 <= 1.25"), std::string::npos) << familiar.reason;
  EXPECT_TRUE(decide_growth(GrowthMode::kNovelty, 1.25, 4, {std::nullopt, {}}).grow) << "no evidence: grow";
}

TEST(GrowthPolicy, ParsingNamesTheBadValue) {
  EXPECT_EQ(parse_growth_mode("novelty", "growth.policy"), GrowthMode::kNovelty);
  try {
    parse_growth_mode("sometimes", "growth.policy");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'sometimes'"), std::string::npos);
  }
}

TEST(TrainingState, RoundTripsThroughJsonAndRejectsMissingFields) {
  TrainingState state;
  state.step = 42;
  state.total_steps = 100;
  state.sampler_seed = 0xDEADBEEFCAFEull;
  state.sampler_cursor = 42;
  state.lr_scale = 0.25;
  state.nan_recoveries = 1;
  state.tokens_seen = 123456;
  state.last_loss = 3.25;
  EXPECT_EQ(TrainingState::from_json(state.to_json()), state);
  auto json = state.to_json();
  json.erase("sampler_cursor");
  try {
    TrainingState::from_json(json);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("sampler_cursor"), std::string::npos);
  }
}

TEST(TrainingState, TheLoggingWindowRoundTripsExactlyAndAnOlderCheckpointResumesWithAnEmptyOne) {
  // The window's float32 sums must come back bit for bit: a resumed run logs their average.
  TrainingState state;
  state.step = 7;
  state.total_steps = 16;
  state.window_steps = 3;
  state.window_lm = 16.593750476837158f;
  state.window_aux = 1.0f / 3.0f;
  state.window_kd = 1e-38f;
  const auto json = nlohmann::json::parse(state.to_json().dump());  // through text, as in a checkpoint
  EXPECT_EQ(TrainingState::from_json(json), state);

  auto older = json;  // format 1: written before the window was saved
  older["format"] = 1;
  older.erase("log_window");
  const auto resumed = TrainingState::from_json(older);
  EXPECT_EQ(resumed.window_steps, 0);
  EXPECT_EQ(resumed.window_lm, 0.0f);
  EXPECT_EQ(resumed.step, 7);

  state.window_lm = std::numeric_limits<float>::quiet_NaN();  // a window that met a non-finite loss
  EXPECT_TRUE(std::isnan(TrainingState::from_json(nlohmann::json::parse(state.to_json().dump())).window_lm));
  auto missing = json;
  missing["log_window"].erase("kd");
  try {
    TrainingState::from_json(missing);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("log_window.kd"), std::string::npos);
  }
}

TEST(SchedulerLock, SecondHolderIsRefusedAndToldWhoHoldsIt) {
  testing::TempDir dir;
  const auto registry = dir / "grove.db";
  LockHolder holder;
  auto first = SchedulerLock::try_acquire(registry, "grove tick", &holder);
  ASSERT_TRUE(first.has_value());
  auto second = SchedulerLock::try_acquire(registry, "grove run x.yaml", &holder);
  EXPECT_FALSE(second.has_value());
  EXPECT_EQ(holder.pid, ::getpid());
  EXPECT_EQ(holder.command, "grove tick");
  EXPECT_FALSE(holder.since.empty());
  first.reset();
  auto third = SchedulerLock::try_acquire(registry, "grove watch", &holder);
  EXPECT_TRUE(third.has_value()) << "released when the holder goes away";
}

// The holder takes the flock first and writes its record just after; a scheduler arriving in between waits for the
// record instead of reporting "pid 0" (seen on the GPU machine with two concurrent ticks).
TEST(SchedulerLock, ARecordWrittenJustAfterTheFlockIsWaitedFor) {
  testing::TempDir dir;
  const auto registry = dir / "grove.db";
  const auto lock_path = SchedulerLock::lock_path_for(registry);
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  std::thread writer([fd] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::string record = "pid=4242\nsince=2026-11-29T14:00:00Z\ncommand=grove tick\n";
    ASSERT_EQ(::pwrite(fd, record.data(), record.size(), 0), static_cast<ssize_t>(record.size()));
  });
  LockHolder holder;
  const auto attempt = SchedulerLock::try_acquire(registry, "grove watch", &holder);
  writer.join();
  EXPECT_FALSE(attempt.has_value());
  EXPECT_EQ(holder.pid, 4242);
  EXPECT_EQ(describe(holder), "pid 4242, since 2026-11-29T14:00:00Z, running 'grove tick'");

  // A long command (a deep experiment path) is read whole.
  const std::string command = fmt::format("grove run /{}/experiment.yaml", std::string(2000, 'x'));
  const std::string long_record = fmt::format("pid=4243\nsince=2026-11-29T14:00:00Z\ncommand={}\n", command);
  ASSERT_EQ(::ftruncate(fd, 0), 0);
  ASSERT_EQ(::pwrite(fd, long_record.data(), long_record.size(), 0), static_cast<ssize_t>(long_record.size()));
  EXPECT_FALSE(SchedulerLock::try_acquire(registry, "grove watch", &holder).has_value());
  EXPECT_EQ(holder.pid, 4243);
  EXPECT_EQ(holder.command, command);

  // A holder that never writes its record is still reported, as unrecorded, after the wait.
  ASSERT_EQ(::ftruncate(fd, 0), 0);
  const auto again = SchedulerLock::try_acquire(registry, "grove watch", &holder);
  EXPECT_FALSE(again.has_value());
  EXPECT_EQ(holder.pid, 0);
  EXPECT_EQ(describe(holder), "its holder has not recorded who it is");
  ::close(fd);
  EXPECT_TRUE(SchedulerLock::try_acquire(registry, "grove watch", &holder).has_value()) << "free once closed";
}

TEST(Seeds, DifferPerPhaseAndPurposeAndAreStable) {
  EXPECT_EQ(derive_seed(7, 1, "sampler"), derive_seed(7, 1, "sampler"));
  EXPECT_NE(derive_seed(7, 1, "sampler"), derive_seed(7, 2, "sampler"));
  EXPECT_NE(derive_seed(7, 1, "sampler"), derive_seed(7, 1, "growth"));
  EXPECT_NE(derive_seed(7, 1, "sampler"), derive_seed(8, 1, "sampler"));
}

}  // namespace
}  // namespace grove::orch
