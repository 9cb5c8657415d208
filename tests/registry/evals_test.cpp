// Evaluations: upserts replace by key, and the forgetting matrix assembled from the sample run's rows equals the
// hand-written R, with stage 'before' feeding R_init and the forward-transfer cells.
#include <gtest/gtest.h>

#include "registry/checkpoints.h"
#include "registry/evals.h"
#include "registry/events.h"
#include "registry/routing.h"
#include "registry/train_metrics.h"
#include "tests/registry/sample_registry.h"

namespace grove::registry {
namespace {

TEST(Evals, MatrixFromTheRegistryEqualsTheRecordedValues) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const EvalMatrix m = eval_matrix(db, sample.run_id);
  ASSERT_EQ(m.distributions, (std::vector<std::string>{"en", "de", "py"}));
  for (size_t j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(*m.init[j], testing::kSampleInit[j]);
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      if (j > i + 1) {
        EXPECT_FALSE(m.after[i][j].has_value()) << i << "," << j;  // not ingested yet: missing, not zero
      } else {
        EXPECT_DOUBLE_EQ(*m.after[i][j], testing::kSampleAfter[i][j]) << i << "," << j;
      }
    }
  }
  const ForgettingMetrics metrics = compute_forgetting_metrics(m);
  EXPECT_NEAR(*metrics.acc.value, 7.6 / 3.0, 1e-12);
  EXPECT_NEAR(*metrics.fwt.value, 1.3, 1e-12);
}

TEST(Evals, UpsertReplacesTheRowWithTheSameKey) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  const size_t count = list_evals(db, sample.run_id).size();
  const NewEval again{sample.run_id, sample.phase_ids[2], EvalStage::kAfter, sample.distribution_ids[0], "holdout",
                      3.5, 2.4, 11.0, 1300, 5000};
  const int64_t id = upsert_eval(db, again);
  EXPECT_EQ(upsert_eval(db, again), id);
  EXPECT_EQ(list_evals(db, sample.run_id).size(), count);
  EXPECT_DOUBLE_EQ(*eval_matrix(db, sample.run_id).after[2][0], 3.5);
}

TEST(Evals, BeforeStageFillsTheForwardTransferCell) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  // Remove nothing, but add a 'before' row for phase 1 with a different value: the 'after' row of phase 0 wins.
  upsert_eval(db, {sample.run_id, sample.phase_ids[1], EvalStage::kBefore, sample.distribution_ids[1], "holdout",
                   9.9, {}, {}, {}, {}});
  EXPECT_DOUBLE_EQ(*eval_matrix(db, sample.run_id).after[0][1], 4.0);
  // On a fresh run where only the 'before' row exists, it fills R[0][1].
  Database db2 = Database::open_in_memory();
  const auto s2 = testing::populate_sample_run(db2, "r2", {"a", "b", "c"});
  db2.prepare("DELETE FROM evals WHERE after_phase_id = ?1 AND stage = 'after' AND distribution_id = ?2")
      .bind_all(s2.phase_ids[0], s2.distribution_ids[1])
      .run();
  EXPECT_FALSE(eval_matrix(db2, s2.run_id).after[0][1].has_value());
  upsert_eval(db2, {s2.run_id, s2.phase_ids[1], EvalStage::kBefore, s2.distribution_ids[1], "holdout", 4.4, {}, {},
                    {}, {}});
  EXPECT_DOUBLE_EQ(*eval_matrix(db2, s2.run_id).after[0][1], 4.4);
}

TEST(Evals, MatrixStopsAtTheLastEvaluatedPhase) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  db.prepare("DELETE FROM evals WHERE after_phase_id = ?1 AND stage = 'after'").bind_all(sample.phase_ids[2]).run();
  const EvalMatrix m = eval_matrix(db, sample.run_id);
  EXPECT_EQ(m.distributions.size(), 2u);
  EXPECT_EQ(m.after.size(), 2u);
}

TEST(RunRecords, CheckpointsRoutingMetricsAndEventsReadBack) {
  Database db = Database::open_in_memory();
  const auto sample = testing::populate_sample_run(db, "r", {"en", "de", "py"});
  EXPECT_EQ(list_checkpoints(db, sample.run_id).size(), 3u);
  EXPECT_EQ(list_checkpoints(db, sample.run_id, sample.phase_ids[1]).size(), 1u);
  EXPECT_EQ(latest_checkpoint(db, sample.run_id)->path, "/tmp/ckpt/2");
  delete_checkpoint(db, latest_checkpoint(db, sample.run_id)->id);
  EXPECT_EQ(latest_checkpoint(db, sample.run_id)->path, "/tmp/ckpt/1");
  EXPECT_EQ(list_routing(db, sample.run_id, sample.phase_ids[0]).size(), 8u);
  const auto metrics = list_train_metrics(db, sample.phase_ids[0]);
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[1].step, 100);
  EXPECT_DOUBLE_EQ(*metrics[1].loss, 2.7);
  const auto events = list_events(db, sample.run_id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, "phase_done");
  EXPECT_EQ(events[0].level, log::Level::kInfo);
}

}  // namespace
}  // namespace grove::registry
