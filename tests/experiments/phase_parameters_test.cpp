// Schema v2 (per-phase parameter counts): a registry written by a v1 binary migrates to v2 on the first write
// and keeps every row; the counts read back through PhaseRow; bad counts and unknown phases are bad input.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/errors.h"
#include "registry/registry.h"
#include "registry/schema_v1.h"
#include "tests/registry/raw_sql.h"
#include "tests/support/temp_dir.h"

namespace grove::registry {
namespace {
namespace fs = std::filesystem;

using testing::raw_sql;

// A registry exactly as a v1 binary leaves it: the v1 schema, its ids, a run with a phase.
void write_v1_registry(const fs::path& path) {
  raw_sql(path, std::string(kSchemaV1) +
                    "INSERT INTO distributions (name, spec_yaml, fingerprint, source_kind, shard_dir) "
                    "VALUES ('en', 'source: text', 'fp', 'text', '/s');"
                    "INSERT INTO runs (name, strategy, config_yaml, status, seed, grove_version) "
                    "VALUES ('old-run', 'grove', 'seed: 1', 'done', 1, '0.0.9');"
                    "INSERT INTO phases (run_id, idx, distribution_id, decision, decision_reason, status, "
                    "steps_done, steps_total) VALUES (1, 0, 1, 'base', 'base phase', 'done', 40, 40);"
                    "PRAGMA application_id = 1196576598; PRAGMA user_version = 1;");
}

TEST(PhaseParameters, AVersion1RegistryMigratesAndKeepsItsRows) {
  testing::TempDir dir;
  const fs::path path = dir / "v1.db";
  write_v1_registry(path);
  // A read-only command on a v1 file asks for a migration instead of failing on a missing column.
  try {
    Database::open(path, OpenMode::kReadOnly);
    FAIL() << "a v1 registry opened read-only";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("older"), std::string::npos) << e.what();
  }
  {
    auto db = Database::open(path, OpenMode::kReadWrite);
    EXPECT_EQ(schema_version(db), kSchemaVersion);
  }
  auto db = Database::open(path, OpenMode::kReadOnly);
  const auto run = require_run(db, "old-run");
  EXPECT_EQ(run.grove_version, "0.0.9");
  const auto phases = list_phases(db, run.id);
  ASSERT_EQ(phases.size(), 1u);
  EXPECT_EQ(phases[0].decision_reason, "base phase");
  EXPECT_EQ(phases[0].steps_done, 40);
  EXPECT_FALSE(phases[0].params_total.has_value()) << "recorded before v2: unknown, not 0";
  EXPECT_FALSE(phases[0].params_active.has_value());
}

TEST(PhaseParameters, CountsReadBackAndBadOnesAreRefused) {
  auto db = Database::open_in_memory();
  const int64_t distribution = insert_distribution(db, {"en", "source: text", "fp", "text", {}, {}, {}, {}, "/s"});
  const int64_t run = create_run(db, {"r", "grove", "", 1, {}, {}});
  const int64_t phase = create_phase(db, {run, 0, distribution, 10, GrowthDecision::kBase, "base", 0});
  set_phase_parameters(db, phase, 12'582'912, 4'194'304);
  const auto row = find_phase_by_id(db, phase);
  EXPECT_EQ(row->params_total, 12'582'912);
  EXPECT_EQ(row->params_active, 4'194'304);

  for (auto [total, active] : {std::pair<int64_t, int64_t>{10, 11}, {-1, 0}, {5, -2}}) {
    try {
      set_phase_parameters(db, phase, total, active);
      FAIL() << total << " " << active;
    } catch (const RegistryError& e) {
      EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(e.what()).find("phase id"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(find_phase_by_id(db, phase)->params_total, 12'582'912) << "a refused update changes nothing";
  EXPECT_THROW(set_phase_parameters(db, phase + 100, 1, 1), RegistryError);
}

}  // namespace
}  // namespace grove::registry
