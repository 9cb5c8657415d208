// A phase's time split: every interval of the clock is charged to exactly one use, so the uses add up to the wall
// time; scopes (a checkpoint save, an evaluation) nest and hand back to the use they interrupted; a take starts
// afresh. The clock is the test's own.
#include "orchestrator/phase_time_account.h"

#include <gtest/gtest.h>

namespace grove::orch {
namespace {

TEST(PhaseTimeAccount, EveryIntervalIsChargedToTheUseCurrentThenAndTheUsesAddUpToTheWallTime) {
  double now = 100.0;
  PhaseTimeAccount account(TimeUse::kSetup, [&] { return now; });
  now += 2.0;  // growth, prepass, optimizer
  {
    const PhaseTimeAccount::Scope evaluating(&account, TimeUse::kEvaluation);  // the 'before' evaluation
    now += 3.0;
    {
      const PhaseTimeAccount::Scope saving(&account, TimeUse::kCheckpoint);  // nested: the innermost is charged
      now += 0.5;
    }
    EXPECT_EQ(account.current(), TimeUse::kEvaluation);
    now += 1.0;
  }
  EXPECT_EQ(account.current(), TimeUse::kSetup) << "a scope hands back to the use it interrupted";
  now += 1.0;
  account.switch_to(TimeUse::kTraining);
  now += 10.0;
  {
    const PhaseTimeAccount::Scope saving(&account, TimeUse::kCheckpoint);
    now += 0.25;
  }
  now += 5.0;
  account.switch_to(TimeUse::kOther);
  now += 0.75;

  const auto times = account.take();
  EXPECT_DOUBLE_EQ(times.setup_s, 3.0);
  EXPECT_DOUBLE_EQ(times.eval_s, 4.0);
  EXPECT_DOUBLE_EQ(times.checkpoint_s, 0.75);
  EXPECT_DOUBLE_EQ(times.training_s, 15.0);
  EXPECT_DOUBLE_EQ(times.other_s, 0.75);
  EXPECT_DOUBLE_EQ(times.wall_s(), now - 100.0);
}

TEST(PhaseTimeAccount, ATakeReturnsOnlyWhatCameSinceTheLastOne) {
  double now = 0.0;
  PhaseTimeAccount account(TimeUse::kTraining, [&] { return now; });
  now += 4.0;
  EXPECT_DOUBLE_EQ(account.take().training_s, 4.0);
  now += 1.5;
  const auto second = account.take();
  EXPECT_DOUBLE_EQ(second.training_s, 1.5) << "not 5.5: each take is one stretch, added up by the registry";
  EXPECT_DOUBLE_EQ(second.wall_s(), 1.5);
  now -= 1.0;  // a clock that steps back charges nothing rather than a negative time
  EXPECT_DOUBLE_EQ(account.take().wall_s(), 0.0);
}

}  // namespace
}  // namespace grove::orch
