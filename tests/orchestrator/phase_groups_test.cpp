// The trained group as the registry records it, on the sample run (three phases, each later one grown): which group
// each phase trained, which distributions a group is for, the marks a choice leaves, and the trainable policy a
// phase gets (on resume too) from its row rather than from choosing again.
#include "orchestrator/phase_groups.h"

#include <gtest/gtest.h>

#include "experiments/strategy_presets.h"
#include "orchestrator/phase_setup.h"
#include "registry/registry.h"
#include "tests/registry/sample_registry.h"

namespace grove::orch {
namespace {

class PhaseGroups : public ::testing::Test {
 protected:
  void SetUp() override {
    sample_ = testing::populate_sample_run(db_, "r", {"en", "de", "en_b"});
    ctx_.db = &db_;
    ctx_.run = *registry::find_run_by_id(db_, sample_.run_id);
    ctx_.strategy = *experiments::find_strategy_preset("grove");
  }
  registry::PhaseRow phase(int64_t idx) { return *registry::find_phase(db_, sample_.run_id, idx); }
  std::optional<int64_t> frozen_at(int64_t slot) {
    return registry::find_expert(db_, sample_.run_id, 0, slot)->frozen_at_phase_id;
  }

  registry::Database db_ = registry::Database::open_in_memory();
  testing::SampleRun sample_;
  RunContext ctx_;
};

TEST_F(PhaseGroups, PhasesRecordedWithoutATrainedGroupFallBackToTheirGrowth) {
  const auto experts = registry::list_experts(db_, sample_.run_id);
  EXPECT_EQ(recorded_trained_group(phase(0), experts), 0);
  EXPECT_EQ(recorded_trained_group(phase(1), experts), 1) << "the group born in it";
  EXPECT_EQ(recorded_trained_group(phase(2), experts), 2);
  registry::PhaseRow no_growth = phase(2);
  no_growth.id = -1;  // no expert was born in it
  EXPECT_FALSE(recorded_trained_group(no_growth, experts).has_value());
  no_growth.trained_group = 0;
  EXPECT_EQ(recorded_trained_group(no_growth, experts), 0) << "the recorded group comes first";
}

TEST_F(PhaseGroups, AChosenOlderGroupIsThawedAndEveryOtherGroupFrozenSinceThePhase) {
  ASSERT_EQ(frozen_at(0), sample_.phase_ids[1]);
  ASSERT_FALSE(frozen_at(7).has_value()) << "group 2, the newest, was never frozen";
  record_trained_group(ctx_, phase(2), 0, 3);
  EXPECT_EQ(phase(2).trained_group, 0);
  for (int64_t slot = 0; slot < 4; ++slot) EXPECT_FALSE(frozen_at(slot).has_value()) << "group 0 trains: " << slot;
  EXPECT_EQ(frozen_at(4), sample_.phase_ids[2]) << "group 1 keeps the phase it is frozen since";
  EXPECT_EQ(frozen_at(6), sample_.phase_ids[2]) << "group 2 stops training";

  // Group 0 is now for both English distributions; group 1 still for German alone.
  const auto en = sample_.distribution_ids[0], de = sample_.distribution_ids[1], en_b = sample_.distribution_ids[2];
  EXPECT_EQ(group_distributions(ctx_, 3, 0), (std::set<int64_t>{en, en_b}));
  EXPECT_EQ(group_distributions(ctx_, 3, 1), (std::set<int64_t>{de}));
  EXPECT_EQ(group_distributions(ctx_, 2, 0), (std::set<int64_t>{en})) << "only phases before the given one";
  EXPECT_TRUE(group_distributions(ctx_, 3, 2).empty()) << "no phase trained group 2 any more";
}

TEST_F(PhaseGroups, ThePhasesTrainablePolicyTakesTheGroupFromItsRow) {
  EXPECT_EQ(phase_trainable_policy(ctx_, 0).experts, model::ExpertPolicy::kAll) << "phase 0 trains everything";
  EXPECT_FALSE(phase_trainable_policy(ctx_, 2).trained_group.has_value()) << "unrecorded: the newest";
  registry::set_phase_trained_group(db_, sample_.phase_ids[2], 0);
  const auto policy = phase_trainable_policy(ctx_, 2);
  EXPECT_EQ(policy.experts, model::ExpertPolicy::kNewest);
  EXPECT_EQ(policy.gate, model::GatePolicy::kNewRows);
  EXPECT_EQ(policy.trained_group, 0) << "what a resumed phase trains: its row's group, not a new choice";
}

}  // namespace
}  // namespace grove::orch
