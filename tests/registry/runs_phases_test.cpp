// Runs and the phase state machine: legal paths, illegal moves refused with both states named, resume lookup.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "registry/distributions.h"
#include "registry/phases.h"
#include "registry/runs.h"

namespace grove::registry {
namespace {

struct RunFixture {
  Database db = Database::open_in_memory();
  int64_t dist = insert_distribution(db, {"d", "", "fp", "text", 1, 1, 0, 0, "/s"});
  int64_t run = create_run(db, {"run-a", "grove", "a: 1\n", 42, std::nullopt, "/w"});
  int64_t phase(int64_t idx) { return create_phase(db, {run, idx, dist, 100, std::nullopt, std::nullopt, 0}); }
};

TEST(Runs, CreateFindListAndStatus) {
  RunFixture f;
  const auto row = find_run(f.db, "run-a");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->status, RunStatus::kPending);
  EXPECT_EQ(row->seed, 42);
  EXPECT_EQ(row->work_dir, "/w");
  EXPECT_FALSE(row->grove_version.empty());
  set_run_status(f.db, f.run, RunStatus::kInterrupted);
  EXPECT_EQ(find_run_by_id(f.db, f.run)->status, RunStatus::kInterrupted);
  EXPECT_EQ(list_runs(f.db).size(), 1u);
  EXPECT_THROW(set_run_status(f.db, f.run + 7, RunStatus::kDone), RegistryError);
}

TEST(Runs, UnknownRunIsBadInputListingTheKnownOnes) {
  RunFixture f;
  try {
    require_run(f.db, "run-b");
    FAIL() << "expected RegistryError";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("'run-b'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'run-a'"), std::string::npos) << e.what();
  }
}

TEST(Phases, FollowTheLegalPathWithTimestamps) {
  RunFixture f;
  const int64_t id = f.phase(0);
  EXPECT_EQ(find_phase_by_id(f.db, id)->status, PhaseStatus::kPending);
  transition_phase(f.db, id, PhaseStatus::kTraining);
  auto row = find_phase(f.db, f.run, 0);
  EXPECT_TRUE(row->started_at.has_value());
  EXPECT_FALSE(row->finished_at.has_value());
  transition_phase(f.db, id, PhaseStatus::kInterrupted);
  transition_phase(f.db, id, PhaseStatus::kTraining);  // resume
  transition_phase(f.db, id, PhaseStatus::kEvaluating);
  transition_phase(f.db, id, PhaseStatus::kDone);
  row = find_phase(f.db, f.run, 0);
  EXPECT_EQ(row->status, PhaseStatus::kDone);
  EXPECT_TRUE(row->finished_at.has_value());
}

TEST(Phases, IllegalTransitionThrowsNamingBothStatesAndChangesNothing) {
  RunFixture f;
  const int64_t id = f.phase(0);
  try {
    transition_phase(f.db, id, PhaseStatus::kDone);
    FAIL() << "pending -> done must be refused";
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("'pending'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'done'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(find_phase_by_id(f.db, id)->status, PhaseStatus::kPending);
  EXPECT_FALSE(f.db.in_transaction());
}

TEST(Phases, TransitionTableMatchesTheDocumentedMachine) {
  using S = PhaseStatus;
  const S all[] = {S::kPending, S::kTraining, S::kEvaluating, S::kDone, S::kInterrupted, S::kFailed};
  int legal = 0;
  for (S from : all) {
    for (S to : all) legal += is_legal_transition(from, to) ? 1 : 0;
  }
  EXPECT_EQ(legal, 8);
  EXPECT_TRUE(is_legal_transition(S::kEvaluating, S::kFailed));
  EXPECT_TRUE(is_legal_transition(S::kInterrupted, S::kTraining));
  EXPECT_FALSE(is_legal_transition(S::kDone, S::kTraining));
  EXPECT_FALSE(is_legal_transition(S::kFailed, S::kTraining));
  EXPECT_FALSE(is_legal_transition(S::kPending, S::kEvaluating));
}

TEST(Phases, DuplicateIndexIsBadInput) {
  RunFixture f;
  f.phase(0);
  EXPECT_THROW(f.phase(0), RegistryError);
}

TEST(Phases, NewestUnfinishedPhaseIsTheOneToResume) {
  RunFixture f;
  const int64_t p0 = f.phase(0);
  const int64_t p1 = f.phase(1);
  for (PhaseStatus s : {PhaseStatus::kTraining, PhaseStatus::kEvaluating, PhaseStatus::kDone}) {
    transition_phase(f.db, p0, s);
  }
  EXPECT_EQ(newest_unfinished_phase(f.db, f.run)->id, p1);
  transition_phase(f.db, p1, PhaseStatus::kTraining);
  transition_phase(f.db, p1, PhaseStatus::kFailed);
  EXPECT_FALSE(newest_unfinished_phase(f.db, f.run).has_value());
  EXPECT_EQ(list_phases(f.db, f.run).size(), 2u);
}

TEST(Phases, DecisionAndProgressAreRecorded) {
  RunFixture f;
  const int64_t id = f.phase(1);
  set_phase_decision(f.db, id, GrowthDecision::kNoGrow, "bpb 2.1 within 1.1x of seen", 0);
  set_phase_progress(f.db, id, 40);
  auto row = find_phase_by_id(f.db, id);
  EXPECT_EQ(row->decision, GrowthDecision::kNoGrow);
  EXPECT_EQ(row->decision_reason, "bpb 2.1 within 1.1x of seen");
  EXPECT_EQ(row->steps_done, 40);
  set_phase_progress(f.db, id, 1000);
  EXPECT_EQ(find_phase_by_id(f.db, id)->steps_done, 100);  // never past steps_total
  EXPECT_THROW(set_phase_progress(f.db, id + 50, 1), RegistryError);
}

}  // namespace
}  // namespace grove::registry
