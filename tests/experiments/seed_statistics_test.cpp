// The statistics the report's "Across seeds" section rests on, against values computed by hand: the mean and the
// sample standard deviation (n − 1), missing values skipped and counted, and the seed-spread rule
// |mean_a − mean_b| > std_a + std_b.
#include "experiments/report/seed_statistics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace grove::experiments::report {
namespace {

TEST(SeedStatistics, MeanAndSampleStandardDeviationMatchHandComputedValues) {
  // 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; 5 / (4 − 1) = 5/3.
  const SeedSpread four = seed_spread({1.0, 2.0, 3.0, 4.0});
  ASSERT_TRUE(four.mean && four.stddev);
  EXPECT_DOUBLE_EQ(*four.mean, 2.5);
  EXPECT_NEAR(*four.stddev, std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_NEAR(*four.stddev, 1.2909944487358056, 1e-12) << "the sample (n − 1), not the population (n), deviation";
  EXPECT_EQ(four.used, 4u);
  EXPECT_EQ(four.missing, 0u);

  // 2.0, 2.2, 2.4: mean 2.2; (0.04 + 0 + 0.04) / 2 = 0.04; std 0.2.
  const SeedSpread three = seed_spread({2.0, 2.2, 2.4});
  EXPECT_NEAR(*three.mean, 2.2, 1e-12);
  EXPECT_NEAR(*three.stddev, 0.2, 1e-12);

  // Identical values have no spread.
  const SeedSpread same = seed_spread({0.7, 0.7});
  EXPECT_DOUBLE_EQ(*same.stddev, 0.0);
}

TEST(SeedStatistics, MissingValuesAreSkippedAndOneValueHasNoSpread) {
  // 1, n/a, 3: mean 2 (not 4/3: a missing value is not a zero); (1 + 1) / (2 − 1) = 2; std √2.
  const SeedSpread gap = seed_spread({1.0, std::nullopt, 3.0});
  EXPECT_DOUBLE_EQ(*gap.mean, 2.0);
  EXPECT_NEAR(*gap.stddev, std::sqrt(2.0), 1e-12);
  EXPECT_EQ(gap.used, 2u);
  EXPECT_EQ(gap.missing, 1u);

  const SeedSpread one = seed_spread({std::nullopt, 2.5});
  EXPECT_DOUBLE_EQ(*one.mean, 2.5);
  EXPECT_FALSE(one.stddev) << "one value has no sample standard deviation";

  const SeedSpread none = seed_spread({std::nullopt});
  EXPECT_FALSE(none.mean);
  EXPECT_FALSE(none.stddev);
  EXPECT_EQ(none.missing, 1u);
  EXPECT_FALSE(seed_spread({}).mean);
}

TEST(SeedStatistics, TwoMeansDifferOnlyWhenApartByMoreThanTheSumOfSpreads) {
  const SeedSpread a = seed_spread({2.0, 2.2, 2.4});             // 2.2 ± 0.2
  const SeedSpread far = seed_spread({2.6, 2.7, 2.8});           // 2.7 ± 0.1: |2.2 − 2.7| = 0.5 > 0.3
  const SeedSpread overlapping = seed_spread({2.3, 2.45, 2.6});  // 2.45 ± 0.15: 0.25 < 0.35
  EXPECT_EQ(compare_spreads(a, far), SpreadVerdict::kDiffers);
  EXPECT_EQ(compare_spreads(far, a), SpreadVerdict::kDiffers) << "the rule is symmetric";
  EXPECT_EQ(compare_spreads(a, overlapping), SpreadVerdict::kWithin);
  // Larger than the larger spread (0.2) yet within the sum (0.3): the stated rule says within.
  const SeedSpread between = seed_spread({2.35, 2.45, 2.55});  // 2.45 ± 0.1: |diff| 0.25 > 0.2, < 0.3
  EXPECT_EQ(compare_spreads(a, between), SpreadVerdict::kWithin);
  EXPECT_EQ(compare_spreads(a, seed_spread({3.0})), SpreadVerdict::kUndetermined) << "one seed: no spread to compare";
  EXPECT_EQ(compare_spreads(a, seed_spread({std::nullopt, std::nullopt})), SpreadVerdict::kUndetermined);
}

}  // namespace
}  // namespace grove::experiments::report
