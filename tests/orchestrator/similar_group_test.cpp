// Which expert group a phase without growth trains: each group's share of the new distribution's routed (token, k)
// assignments, per expert of the group, averaged over layers; the largest wins, ties going to the newer group.
#include "orchestrator/similar_group.h"

#include <gtest/gtest.h>

namespace grove::orch {
namespace {

// Counts [L, E] from rows of per-slot assignments.
torch::Tensor counts(const std::vector<std::vector<int64_t>>& rows) {
  torch::Tensor out =
      torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows.front().size())}, torch::kLong);
  for (size_t l = 0; l < rows.size(); ++l) {
    for (size_t e = 0; e < rows[l].size(); ++e) out[static_cast<int64_t>(l)][static_cast<int64_t>(e)] = rows[l][e];
  }
  return out;
}

TEST(SimilarGroup, SharesAreAveragedOverLayersAndNormalisedByGroupSize) {
  // Groups of 4 (base) and 2 experts. Layer 0: 60 of 100 assignments on group 0; layer 1: 80 of 100.
  const auto shares = group_routing_shares(counts({{30, 10, 10, 10, 25, 15}, {20, 20, 20, 20, 10, 10}}), {4, 2});
  ASSERT_EQ(shares.share.size(), 2u);
  EXPECT_NEAR(shares.share[0], 0.7, 1e-12);
  EXPECT_NEAR(shares.share[1], 0.3, 1e-12);
  EXPECT_NEAR(shares.share_per_expert[0], 0.7 / 4, 1e-12);
  EXPECT_NEAR(shares.share_per_expert[1], 0.3 / 2, 1e-12);
  EXPECT_EQ(shares.chosen, 0);
}

TEST(SimilarGroup, TheBiggerBaseGroupDoesNotWinBySizeAlone) {
  // 60% of the assignments go to the 4 base experts, 40% to the 2 grown ones: 15% against 20% per expert.
  const auto shares = group_routing_shares(counts({{15, 15, 15, 15, 20, 20}}), {4, 2});
  EXPECT_NEAR(shares.share[0], 0.6, 1e-12);
  EXPECT_EQ(shares.chosen, 1);
  // Three groups: the middle one has the most per expert though the base group has the most in all.
  // Means over the two layers: 50%, 40% and 10%; per expert 12.5%, 20% and 5%.
  const auto three =
      group_routing_shares(counts({{10, 10, 10, 10, 30, 30, 0, 0}, {15, 15, 15, 15, 10, 10, 10, 10}}), {4, 2, 2});
  EXPECT_NEAR(three.share[0], 0.5, 1e-12);
  EXPECT_NEAR(three.share_per_expert[1], 0.2, 1e-12);
  EXPECT_NEAR(three.share_per_expert[2], 0.05, 1e-12);
  EXPECT_EQ(three.chosen, 1);
}

TEST(SimilarGroup, TiesGoToTheNewerGroup) {
  // 40 assignments over 4 experts and 20 over 2: 1/6 per expert each.
  EXPECT_EQ(group_routing_shares(counts({{10, 10, 10, 10, 10, 10}}), {4, 2}).chosen, 1);
  EXPECT_EQ(most_similar_group({0.2, 0.2, 0.1}), 1);
  EXPECT_EQ(most_similar_group({0.3, 0.2, 0.1}), 0);
  EXPECT_EQ(most_similar_group({0.1}), 0);
  // No assignment at all (no evidence): every share is 0 and the newest group is chosen.
  const auto none = group_routing_shares(torch::zeros({2, 6}, torch::kLong), {4, 2});
  EXPECT_EQ(none.share, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(none.chosen, 1);
}

TEST(SimilarGroup, ALayerWithoutAssignmentsAddsNothingToAnyGroup) {
  const auto shares = group_routing_shares(counts({{0, 0, 0, 0, 0, 0}, {40, 0, 0, 0, 30, 30}}), {4, 2});
  EXPECT_NEAR(shares.share[0], 0.4 / 2, 1e-12);
  EXPECT_NEAR(shares.share[1], 0.6 / 2, 1e-12);
  EXPECT_EQ(shares.chosen, 1);
}

TEST(SimilarGroup, CountsThatDoNotMatchTheLayoutAreRefused) {
  EXPECT_THROW(group_routing_shares(torch::zeros({2, 5}, torch::kLong), {4, 2}), c10::Error);
  EXPECT_THROW(group_routing_shares(torch::zeros({6}, torch::kLong), {4, 2}), c10::Error);
  EXPECT_THROW(most_similar_group({}), c10::Error);
}

TEST(SimilarGroup, TheDescriptionGivesEveryGroupsShares) {
  const auto shares = group_routing_shares(counts({{15, 15, 15, 15, 20, 20}}), {4, 2});
  EXPECT_EQ(describe_group_shares(shares, {4, 2}),
            "group 0: 60.0% over 4 experts, 15.0% each; group 1: 40.0% over 2, 20.0% each");
}

}  // namespace
}  // namespace grove::orch
