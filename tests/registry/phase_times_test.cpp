// Schema v3 (where each phase's wall time went): a registry written by a v2 binary migrates on the first write and
// keeps its rows, its phases having no time recorded; stretches of a resumed phase add up; bad numbers and unknown
// phases are bad input that changes nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/errors.h"
#include "registry/registry.h"
#include "registry/schema_v1.h"
#include "registry/schema_v2.h"
#include "tests/registry/raw_sql.h"
#include "tests/support/temp_dir.h"

namespace grove::registry {
namespace {
namespace fs = std::filesystem;

using testing::raw_sql;

TEST(PhaseTimes, AVersion2RegistryMigratesKeepsItsPhasesAndTheyHaveNoTimesYet) {
  testing::TempDir dir;
  const fs::path path = dir / "v2.db";
  raw_sql(path, std::string(kSchemaV1) + std::string(kSchemaV2) +
                    "INSERT INTO distributions (name, spec_yaml, fingerprint, source_kind, shard_dir) "
                    "VALUES ('en', 'source: text', 'fp', 'text', '/s');"
                    "INSERT INTO runs (name, strategy, config_yaml, status, seed, grove_version) "
                    "VALUES ('old-run', 'grove', 'seed: 1', 'done', 1, '0.1.0');"
                    "INSERT INTO phases (run_id, idx, distribution_id, decision, decision_reason, status, "
                    "steps_done, steps_total, params_total, params_active) "
                    "VALUES (1, 0, 1, 'base', 'base phase', 'done', 40, 40, 1000, 500);"
                    "PRAGMA application_id = 1196576598; PRAGMA user_version = 2;");
  {
    auto db = Database::open(path, OpenMode::kReadWrite);
    EXPECT_EQ(schema_version(db), kSchemaVersion);
  }
  auto db = Database::open(path, OpenMode::kReadOnly);
  const auto phases = list_phases(db, require_run(db, "old-run").id);
  ASSERT_EQ(phases.size(), 1u);
  EXPECT_EQ(phases[0].params_total, 1000) << "v2's columns are kept";
  EXPECT_FALSE(find_phase_times(db, phases[0].id).has_value()) << "recorded before v3: unknown, not zero";
}

TEST(PhaseTimes, AResumedPhasesStretchesAddUpAndItsTokensAreCountedOnce) {
  auto db = Database::open_in_memory();
  const int64_t distribution = insert_distribution(db, {"en", "source: text", "fp", "text", {}, {}, {}, {}, "/s"});
  const int64_t run = create_run(db, {"r", "grove", "", 1, {}, {}});
  const int64_t phase = create_phase(db, {run, 0, distribution, 10, GrowthDecision::kBase, "base", 0});
  EXPECT_FALSE(find_phase_times(db, phase).has_value());

  // Interrupted after 6 of 10 steps (tokens of 6 steps), then resumed from the checkpoint at step 5 to the end.
  add_phase_times(db, phase, {2.0, 30.0, 1.5, 0.0, 0.25, 600});
  add_phase_times(db, phase, {1.0, 25.0, 2.5, 4.0, 0.75, 1000});
  const auto times = find_phase_times(db, phase);
  ASSERT_TRUE(times.has_value());
  EXPECT_DOUBLE_EQ(times->setup_s, 3.0);
  EXPECT_DOUBLE_EQ(times->training_s, 55.0);
  EXPECT_DOUBLE_EQ(times->checkpoint_s, 4.0);
  EXPECT_DOUBLE_EQ(times->eval_s, 4.0);
  EXPECT_DOUBLE_EQ(times->other_s, 1.0);
  EXPECT_EQ(times->train_tokens, 1000) << "the step retrained after the resume counts once";
  EXPECT_DOUBLE_EQ(times->wall_s(), 67.0);
  ASSERT_TRUE(times->goodput().has_value());
  EXPECT_DOUBLE_EQ(*times->goodput(), 1000.0 / 67.0);
  add_phase_times(db, phase, {0.0, 0.0, 0.0, 1.0, 0.0, 0});
  EXPECT_EQ(find_phase_times(db, phase)->train_tokens, 1000) << "an evaluation-only stretch keeps the tokens";
  EXPECT_FALSE(PhaseTimes{}.goodput().has_value()) << "no time: no goodput, not a division by zero";
}

TEST(PhaseTimes, NegativeOrNonFiniteTimesAndUnknownPhasesAreRefusedAndChangeNothing) {
  auto db = Database::open_in_memory();
  const int64_t distribution = insert_distribution(db, {"en", "source: text", "fp", "text", {}, {}, {}, {}, "/s"});
  const int64_t run = create_run(db, {"r", "grove", "", 1, {}, {}});
  const int64_t phase = create_phase(db, {run, 0, distribution, 10, GrowthDecision::kBase, "base", 0});
  add_phase_times(db, phase, {1.0, 2.0, 3.0, 4.0, 5.0, 100});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const PhaseTimes& bad : {PhaseTimes{-1.0, 0, 0, 0, 0, 0}, PhaseTimes{0, nan, 0, 0, 0, 0},
                                PhaseTimes{0, 0, inf, 0, 0, 0}, PhaseTimes{0, 0, 0, 0, 0, -5}}) {
    try {
      add_phase_times(db, phase, bad);
      FAIL() << "accepted a bad stretch";
    } catch (const RegistryError& e) {
      EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(e.what()).find("phase id " + std::to_string(phase)), std::string::npos) << e.what();
    }
  }
  EXPECT_DOUBLE_EQ(find_phase_times(db, phase)->wall_s(), 15.0) << "a refused stretch changes nothing";
  try {
    add_phase_times(db, phase + 100, {1.0, 0, 0, 0, 0, 0});
    FAIL() << "accepted an unknown phase";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("no phase with id"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grove::registry
