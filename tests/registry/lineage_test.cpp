// Experts and their lineage on the sample run: ancestors to the root, the tree per layer, born/frozen per phase.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "registry/experts.h"
#include "registry/lineage.h"
#include "tests/registry/sample_registry.h"

namespace grove::registry {
namespace {

TEST(Lineage, AncestorsRunFromTheExpertToItsRoot) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const auto chain = expert_ancestors(db, sample.run_id, 1, 6);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].slot, 6);
  EXPECT_EQ(chain[1].slot, 4);
  EXPECT_EQ(chain[2].slot, 1);
  EXPECT_EQ(chain[0].init, ExpertInit::kCopy);
  EXPECT_EQ(chain[2].init, ExpertInit::kBase);
  EXPECT_FALSE(chain[2].parent_expert_id.has_value());
  for (const auto& expert : chain) EXPECT_EQ(expert.layer, 1);
  EXPECT_EQ(expert_ancestors(db, sample.run_id, 0, 7).size(), 1u);  // random init: its own root
  EXPECT_THROW(expert_ancestors(db, sample.run_id, 0, 99), RegistryError);
}

TEST(Lineage, ForestHasEveryExpertOnceUnderItsParent) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const auto forest = expert_forest(db, sample.run_id);
  ASSERT_EQ(forest.size(), 2u);
  const auto& roots = forest.at(0);
  std::vector<int64_t> root_slots;
  for (const auto& node : roots) root_slots.push_back(node.expert.slot);
  EXPECT_EQ(root_slots, (std::vector<int64_t>{0, 1, 2, 3, 5, 7}));
  const auto& slot1 = roots[1];
  ASSERT_EQ(slot1.children.size(), 1u);
  EXPECT_EQ(slot1.children[0].expert.slot, 4);
  ASSERT_EQ(slot1.children[0].children.size(), 1u);
  EXPECT_EQ(slot1.children[0].children[0].expert.slot, 6);
}

TEST(Lineage, PhasesListTheExpertsTheyCreatedAndFroze) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const auto phases = lineage_by_phase(db, sample.run_id);
  ASSERT_EQ(phases.size(), 3u);
  EXPECT_EQ(phases[0].born.size(), 8u);  // 4 base experts x 2 layers
  EXPECT_EQ(phases[0].frozen.size(), 0u);
  EXPECT_EQ(phases[1].born.size(), 4u);
  EXPECT_EQ(phases[1].frozen.size(), 8u);  // group 0 frozen when phase 1 grew
  EXPECT_EQ(phases[2].frozen.size(), 4u);
  for (const auto& expert : phases[2].frozen) EXPECT_EQ(expert.group_idx, 1);
}

TEST(Experts, BadParentOrTakenSlotIsBadInputAndInsertsNothing) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const size_t before = list_experts(db, sample.run_id).size();
  const std::vector<NewExpert> bad_parent = {{0, 20, 3, ExpertInit::kRandom, {}, 0, 1},
                                             {0, 21, 3, ExpertInit::kCopy, 77, 0, 1}};
  EXPECT_THROW(insert_experts(db, sample.run_id, sample.phase_ids[2], bad_parent), RegistryError);
  EXPECT_THROW(insert_experts(db, sample.run_id, sample.phase_ids[2], {{0, 2, 3, ExpertInit::kRandom, {}, 0, 1}}),
               RegistryError);
  EXPECT_EQ(list_experts(db, sample.run_id).size(), before);  // the batch is all or nothing
  EXPECT_EQ(list_experts(db, sample.run_id, 1).size(), before / 2);
}

TEST(Experts, RankAndFreezeAreRecorded) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const auto expert = find_expert(db, sample.run_id, 0, 7);
  ASSERT_TRUE(expert.has_value());
  EXPECT_FALSE(expert->frozen_at_phase_id.has_value());
  set_expert_rank(db, expert->id, 3);
  EXPECT_EQ(find_expert_by_id(db, expert->id)->rank, 3);
  EXPECT_EQ(freeze_expert_group(db, sample.run_id, 2, sample.phase_ids[2]), 4);
  EXPECT_EQ(freeze_expert_group(db, sample.run_id, 2, sample.phase_ids[2]), 0);  // already frozen
}

// A group that trains again (a phase without growth chose it) reads as not frozen while it trains, and a later
// freeze records the phase it is frozen since; other groups and runs keep their marks.
TEST(Experts, AThawedGroupReadsAsNotFrozenUntilFrozenAgain) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const auto other = testing::populate_sample_run(db, "other", {"en", "de", "py"});
  auto frozen_at = [&](int64_t run_id, int64_t slot) { return find_expert(db, run_id, 1, slot)->frozen_at_phase_id; };
  ASSERT_EQ(frozen_at(sample.run_id, 0), sample.phase_ids[1]) << "the base group froze when phase 1 grew";
  ASSERT_EQ(frozen_at(sample.run_id, 4), sample.phase_ids[2]);

  EXPECT_EQ(thaw_expert_group(db, sample.run_id, 0), 8) << "4 base experts in each of 2 layers";
  for (int64_t slot = 0; slot < 4; ++slot) EXPECT_FALSE(frozen_at(sample.run_id, slot).has_value()) << slot;
  EXPECT_EQ(frozen_at(sample.run_id, 4), sample.phase_ids[2]) << "group 1 stays frozen";
  EXPECT_EQ(frozen_at(other.run_id, 0), other.phase_ids[1]) << "another run's group 0 stays frozen";
  EXPECT_EQ(thaw_expert_group(db, sample.run_id, 0), 0) << "nothing left to thaw";
  EXPECT_EQ(thaw_expert_group(db, sample.run_id, 2), 0) << "group 2 was never frozen";

  EXPECT_EQ(freeze_expert_group(db, sample.run_id, 0, sample.phase_ids[2]), 8);
  EXPECT_EQ(frozen_at(sample.run_id, 3), sample.phase_ids[2]) << "frozen since the phase that froze it again";
}

}  // namespace
}  // namespace grove::registry
