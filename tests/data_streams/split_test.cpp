// The split and the fingerprint: adding documents never moves an existing one across the split, the holdout share
// follows the fraction, and the fingerprint changes with content, order and split parameters but nothing else.
#include <gtest/gtest.h>

#include "data_streams/fingerprint.h"
#include "data_streams/split.h"
#include "tests/data_streams/test_corpora.h"

namespace grove::data {
namespace {

TEST(Split, AddingDocumentsLeavesEveryEarlierDocumentOnItsSide) {
  const auto before = testing::synthetic_documents(2000, 11);
  std::vector<bool> sides;
  for (const auto& doc : before) sides.push_back(is_holdout(doc, 0.1, 42));
  // The grown corpus: new documents interleaved before, between and after the old ones.
  auto grown = testing::synthetic_documents(3000, 12);
  grown.insert(grown.begin() + 1000, before.begin(), before.end());
  size_t checked = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(is_holdout(grown[1000 + i], 0.1, 42), sides[i]) << i;
    ++checked;
  }
  EXPECT_EQ(checked, before.size());
}

TEST(Split, HoldoutShareFollowsTheFractionAndTheSeedMatters) {
  const auto docs = testing::synthetic_documents(20000, 5);
  size_t held = 0, held_other_seed = 0, differ = 0;
  for (const auto& doc : docs) {
    const bool a = is_holdout(doc, 0.05, 0);
    const bool b = is_holdout(doc, 0.05, 1);
    held += a;
    held_other_seed += b;
    differ += a != b;
  }
  EXPECT_NEAR(static_cast<double>(held) / docs.size(), 0.05, 0.006);
  EXPECT_NEAR(static_cast<double>(held_other_seed) / docs.size(), 0.05, 0.006);
  EXPECT_GT(differ, 500u);
  for (const auto& doc : docs) EXPECT_FALSE(is_holdout(doc, 0.0, 0));
}

uint64_t fingerprint_of(const std::vector<std::string>& docs, double holdout, uint64_t seed) {
  FingerprintBuilder builder(holdout, seed);
  for (const auto& doc : docs) builder.add(doc);
  return builder.value();
}

TEST(Fingerprint, DependsOnContentOrderBoundariesAndSplitParameters) {
  const std::vector<std::string> docs{"alpha", "beta", "gamma"};
  const uint64_t base = fingerprint_of(docs, 0.05, 0);
  EXPECT_EQ(fingerprint_of(docs, 0.05, 0), base);
  EXPECT_NE(fingerprint_of({"alpha", "gamma", "beta"}, 0.05, 0), base);
  EXPECT_NE(fingerprint_of({"alphabeta", "gamma"}, 0.05, 0), base);
  EXPECT_NE(fingerprint_of({"alpha", "beta", "gamma!"}, 0.05, 0), base);
  EXPECT_NE(fingerprint_of(docs, 0.1, 0), base);
  EXPECT_NE(fingerprint_of(docs, 0.05, 1), base);
  FingerprintBuilder builder(0.05, 0);
  EXPECT_EQ(builder.hex().size(), 16u);
}

}  // namespace
}  // namespace grove::data
