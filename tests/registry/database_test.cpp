// The SQLite handles: migration on open, bound values stored verbatim, transactions and savepoints that roll
// back what they did not commit, foreign keys enforced, errors that name the file.
#include "registry/database.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/errors.h"
#include "registry/migrations.h"
#include "registry/runs.h"
#include "tests/support/temp_dir.h"

namespace grove::registry {
namespace {
namespace fs = std::filesystem;

NewRun sample_run(const std::string& name) { return {name, "grove", "steps: 10\n", 1, std::nullopt, std::nullopt}; }

TEST(Database, OpenCreatesAMigratedWalRegistry) {
  testing::TempDir dir;
  const fs::path path = dir / "grove.db";
  {
    Database db = Database::open(path);
    EXPECT_EQ(schema_version(db), kSchemaVersion);
    auto mode = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.get_text(0), "wal");
    auto app = db.prepare("PRAGMA application_id");
    ASSERT_TRUE(app.step());
    EXPECT_EQ(static_cast<uint32_t>(app.get_int64(0)), kApplicationId);
  }
  // Reopening (both modes) finds the same schema and does not migrate again.
  Database again = Database::open(path, OpenMode::kReadOnly);
  EXPECT_EQ(schema_version(again), kSchemaVersion);
  EXPECT_TRUE(again.read_only());
}

TEST(Database, TextIsStoredAndReadBackVerbatim) {
  Database db = Database::open_in_memory();
  const std::string awkward = "o'brien \"quoted\"; DROP TABLE runs; --\nzweite Zeile: Grüße, 日本語, ñ, emoji 🌲";
  create_run(db, sample_run(awkward));
  const auto run = find_run(db, awkward);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->name, awkward);
  EXPECT_EQ(list_runs(db).size(), 1u);  // the table is still there
}

TEST(Database, StatementBindsOptionalsAsNullAndReadsThemBack) {
  Database db = Database::open_in_memory();
  auto statement = db.prepare("SELECT ?1, ?2, ?3, ?4");
  statement.bind_all(std::optional<int64_t>{}, std::optional<double>{2.5}, std::optional<std::string>{"x"}, 42);
  ASSERT_TRUE(statement.step());
  EXPECT_FALSE(statement.get_optional_int64(0).has_value());
  EXPECT_EQ(statement.get_optional_double(1), 2.5);
  EXPECT_EQ(statement.get_optional_text(2), "x");
  EXPECT_EQ(statement.get_int64(3), 42);
  EXPECT_FALSE(statement.step());
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
  Database db = Database::open_in_memory();
  {
    Transaction transaction(db);
    create_run(db, sample_run("rolled-back"));
  }
  EXPECT_FALSE(find_run(db, "rolled-back").has_value());
  EXPECT_FALSE(db.in_transaction());
  {
    Transaction transaction(db);
    create_run(db, sample_run("kept"));
    transaction.commit();
  }
  EXPECT_TRUE(find_run(db, "kept").has_value());
}

TEST(Database, SavepointRollsBackOnlyItsOwnWorkInsideATransaction) {
  Database db = Database::open_in_memory();
  Transaction transaction(db);
  create_run(db, sample_run("outer"));
  {
    Savepoint inner(db);
    create_run(db, sample_run("inner"));
  }
  EXPECT_TRUE(find_run(db, "outer").has_value());
  EXPECT_FALSE(find_run(db, "inner").has_value());
  EXPECT_TRUE(db.in_transaction());
  transaction.commit();
  EXPECT_TRUE(find_run(db, "outer").has_value());
}

TEST(Database, FailedCallLeavesNothingHalfWritten) {
  Database db = Database::open_in_memory();
  create_run(db, sample_run("taken"));
  EXPECT_THROW(create_run(db, sample_run("taken")), RegistryError);
  EXPECT_EQ(list_runs(db).size(), 1u);
  EXPECT_FALSE(db.in_transaction());
}

TEST(Database, ForeignKeysAreEnforcedAsBadInput) {
  Database db = Database::open_in_memory();
  try {
    db.prepare("INSERT INTO phases (run_id, idx, distribution_id, steps_total) VALUES (?1, 0, ?2, 1)")
        .bind_all(999, 999)
        .run();
    FAIL() << "expected a foreign key failure";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("FOREIGN KEY"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(":memory:"), std::string::npos) << e.what();
  }
}

TEST(Database, BadSqlNamesTheRegistryAndTheStatement) {
  Database db = Database::open_in_memory();
  try {
    db.prepare("SELECT no_such_column FROM runs");
    FAIL() << "expected RegistryError";
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_column"), std::string::npos) << e.what();
  }
}

TEST(Database, ReadOnlyConnectionRefusesWrites) {
  testing::TempDir dir;
  Database::open(dir / "r.db");
  Database db = Database::open(dir / "r.db", OpenMode::kReadOnly);
  EXPECT_THROW(create_run(db, sample_run("nope")), RegistryError);
}

TEST(Database, MovedHandlesKeepWorking) {
  Database first = Database::open_in_memory();
  Database second = std::move(first);
  auto statement = second.prepare("SELECT 1");
  Statement moved = std::move(statement);
  ASSERT_TRUE(moved.step());
  EXPECT_EQ(moved.get_int64(0), 1);
}

}  // namespace
}  // namespace grove::registry
