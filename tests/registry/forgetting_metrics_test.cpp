// ACC, BWT, FWT, forgetting and max-forgetting against matrices computed by hand (docs/METRICS.md definitions).
#include "registry/forgetting_metrics.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace grove::registry {
namespace {

constexpr double kTol = 1e-12;

// init   = [5.0, 5.2, 5.6]
// R[0]   = [2.0, 4.0, 4.5]
// R[1]   = [1.8, 2.2, 4.2]
// R[2]   = [2.9, 2.6, 2.1]     (T = 2)
EvalMatrix three_phase_matrix() {
  return {{"en", "de", "py"}, {5.0, 5.2, 5.6}, {{2.0, 4.0, 4.5}, {1.8, 2.2, 4.2}, {2.9, 2.6, 2.1}}};
}

TEST(ForgettingMetrics, ThreePhaseRunMatchesHandComputedValues) {
  const ForgettingMetrics m = compute_forgetting_metrics(three_phase_matrix());
  EXPECT_EQ(m.phases, 3);
  // ACC = (2.9 + 2.6 + 2.1) / 3
  EXPECT_NEAR(*m.acc.value, 7.6 / 3.0, kTol);
  EXPECT_EQ(m.acc.used, 3);
  // BWT = ((2.0 - 2.9) + (2.2 - 2.6)) / 2 = -0.65: negative, the old distributions got worse
  EXPECT_NEAR(*m.bwt.value, -0.65, kTol);
  EXPECT_NEAR(*m.bwt.terms[0], -0.9, kTol);
  EXPECT_NEAR(*m.bwt.terms[1], -0.4, kTol);
  EXPECT_FALSE(m.bwt.terms[2].has_value());  // j = T is outside BWT's range
  // forgetting_j = R[T][j] - R[j][j]: 0.9 and 0.4
  EXPECT_NEAR(*m.forgetting.terms[0], 0.9, kTol);
  EXPECT_NEAR(*m.forgetting.terms[1], 0.4, kTol);
  EXPECT_NEAR(*m.forgetting.value, 0.65, kTol);
  // max_forgetting_0 = 2.9 - min(2.0, 1.8) = 1.1 (phase 1 had improved it); max_forgetting_1 = 2.6 - min(4.0, 2.2)
  EXPECT_NEAR(*m.max_forgetting.terms[0], 1.1, kTol);
  EXPECT_NEAR(*m.max_forgetting.terms[1], 0.4, kTol);
  EXPECT_NEAR(*m.max_forgetting.value, 0.75, kTol);
  // FWT = ((5.2 - 4.0) + (5.6 - 4.2)) / 2 = 1.3; no term for j = 0
  EXPECT_FALSE(m.fwt.terms[0].has_value());
  EXPECT_NEAR(*m.fwt.terms[1], 1.2, kTol);
  EXPECT_NEAR(*m.fwt.terms[2], 1.4, kTol);
  EXPECT_NEAR(*m.fwt.value, 1.3, kTol);
  for (const Metric* metric : {&m.acc, &m.bwt, &m.fwt, &m.forgetting, &m.max_forgetting}) {
    EXPECT_EQ(metric->missing, 0);
  }
}

TEST(ForgettingMetrics, BwtIsMinusMeanForgettingAndMaxForgettingIsAtLeastForgetting) {
  const ForgettingMetrics m = compute_forgetting_metrics(three_phase_matrix());
  EXPECT_NEAR(*m.bwt.value, -*m.forgetting.value, kTol);
  for (size_t j = 0; j < 2; ++j) EXPECT_GE(*m.max_forgetting.terms[j], *m.forgetting.terms[j]);
}

TEST(ForgettingMetrics, OnePhaseRunHasAccuracyOnlyAndNoTransferTerms) {
  const ForgettingMetrics m = compute_forgetting_metrics({{"en"}, {5.0}, {{3.0}}});
  EXPECT_EQ(m.phases, 1);
  EXPECT_NEAR(*m.acc.value, 3.0, kTol);
  EXPECT_EQ(m.acc.used, 1);
  for (const Metric* metric : {&m.bwt, &m.fwt, &m.forgetting, &m.max_forgetting}) {
    EXPECT_FALSE(metric->value.has_value());
    EXPECT_EQ(metric->used, 0);
    EXPECT_EQ(metric->missing, 0);  // nothing is missing: the terms do not exist for T = 0
  }
}

TEST(ForgettingMetrics, MissingCellsAreSkippedAndCountedNeverReadAsZero) {
  EvalMatrix matrix = three_phase_matrix();
  matrix.after[2][1] = std::nullopt;  // R[T][1] never evaluated
  matrix.init[1] = std::nullopt;      // untrained model not evaluated on distribution 1
  const ForgettingMetrics m = compute_forgetting_metrics(matrix);
  // ACC over the present R[T][j]: (2.9 + 2.1) / 2 = 2.5 (reading the gap as 0 would give 1.667)
  EXPECT_NEAR(*m.acc.value, 2.5, kTol);
  EXPECT_EQ(m.acc.used, 2);
  EXPECT_EQ(m.acc.missing, 1);
  EXPECT_NEAR(*m.bwt.value, -0.9, kTol);
  EXPECT_EQ(m.bwt.used, 1);
  EXPECT_EQ(m.bwt.missing, 1);
  EXPECT_FALSE(m.bwt.terms[1].has_value());
  EXPECT_NEAR(*m.forgetting.value, 0.9, kTol);
  EXPECT_EQ(m.forgetting.missing, 1);
  EXPECT_NEAR(*m.max_forgetting.value, 1.1, kTol);
  EXPECT_EQ(m.max_forgetting.missing, 1);
  EXPECT_NEAR(*m.fwt.value, 1.4, kTol);
  EXPECT_EQ(m.fwt.used, 1);
  EXPECT_EQ(m.fwt.missing, 1);
}

TEST(ForgettingMetrics, MaxForgettingUsesTheBestEarlierCellThatExists) {
  EvalMatrix matrix = three_phase_matrix();
  matrix.after[0][0] = std::nullopt;  // R[0][0] missing: min over l < T of R[l][0] is R[1][0] = 1.8
  matrix.after[1][0] = std::nullopt;  // and now none: the term is missing
  ForgettingMetrics m = compute_forgetting_metrics(matrix);
  EXPECT_FALSE(m.max_forgetting.terms[0].has_value());
  EXPECT_EQ(m.max_forgetting.missing, 1);
  EXPECT_NEAR(*m.max_forgetting.value, 0.4, kTol);
  matrix.after[1][0] = 1.8;
  m = compute_forgetting_metrics(matrix);
  EXPECT_NEAR(*m.max_forgetting.terms[0], 1.1, kTol);
  EXPECT_FALSE(m.forgetting.terms[0].has_value());  // forgetting needs R[0][0] itself
}

TEST(ForgettingMetrics, AllCellsMissingGivesEmptyMetricsNotZero) {
  const Cell none;
  const ForgettingMetrics m =
      compute_forgetting_metrics({{"a", "b"}, {none, none}, {{none, none}, {none, none}}});
  for (const Metric* metric : {&m.acc, &m.bwt, &m.fwt, &m.forgetting, &m.max_forgetting}) {
    EXPECT_FALSE(metric->value.has_value());
    EXPECT_EQ(metric->used, 0);
  }
  EXPECT_EQ(m.acc.missing, 2);
  EXPECT_EQ(m.bwt.missing, 1);
  EXPECT_EQ(m.fwt.missing, 1);
}

TEST(ForgettingMetrics, EmptyMatrixHasNoMetricsAndBadShapeIsRejected) {
  const ForgettingMetrics m = compute_forgetting_metrics({});
  EXPECT_EQ(m.phases, 0);
  EXPECT_FALSE(m.acc.value.has_value());
  EXPECT_THROW(compute_forgetting_metrics({{"a", "b"}, {1.0, 1.0}, {{1.0, 1.0}}}), std::invalid_argument);
}

}  // namespace
}  // namespace grove::registry
