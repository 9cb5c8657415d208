// Files Grove must refuse: not SQLite, another application's database, a newer schema, a missing file for a
// query. Each is refused with exit code 2 and a message naming the file and why, and stays byte-identical with
// no -wal/-shm files appearing beside it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <functional>

#include "common/errors.h"
#include "registry/database.h"
#include "registry/migrations.h"
#include "tests/registry/raw_sql.h"
#include "tests/support/temp_dir.h"

namespace grove::registry {
namespace {
namespace fs = std::filesystem;

using testing::raw_sql;

void expect_refused_untouched(const fs::path& path, OpenMode mode, const std::string& why) {
  const std::string before = testing::read_file(path);
  ASSERT_FALSE(fs::exists(path.string() + "-wal"));
  ASSERT_FALSE(fs::exists(path.string() + "-shm"));
  try {
    Database::open(path, mode);
    FAIL() << "expected " << path << " to be refused";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  EXPECT_EQ(testing::read_file(path), before);
  EXPECT_FALSE(fs::exists(path.string() + "-wal"));
  EXPECT_FALSE(fs::exists(path.string() + "-shm"));
  EXPECT_FALSE(fs::exists(path.string() + "-journal"));
}

TEST(RegistryFile, TextFileIsRefusedInBothModes) {
  testing::TempDir dir;
  const fs::path path = testing::write_file(dir / "notes.db", "these are my notes, not a database\n");
  expect_refused_untouched(path, OpenMode::kReadOnly, "not a SQLite database");
  expect_refused_untouched(path, OpenMode::kReadWrite, "not a SQLite database");
}

TEST(RegistryFile, ShortBinaryFileIsRefused) {
  testing::TempDir dir;
  const fs::path path = testing::write_file(dir / "short.db", std::string("SQLite format 3\0", 16));
  expect_refused_untouched(path, OpenMode::kReadWrite, "not a SQLite database");
}

TEST(RegistryFile, NewerSchemaIsRefusedNamingBothVersions) {
  testing::TempDir dir;
  const fs::path path = dir / "future.db";
  Database::open(path);  // a real registry, closed again (WAL checkpointed and removed)
  raw_sql(path, "PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  expect_refused_untouched(path, OpenMode::kReadOnly, "newer than this grove");
  expect_refused_untouched(path, OpenMode::kReadWrite, "schema version " + std::to_string(kSchemaVersion + 1));
}

TEST(RegistryFile, AnotherApplicationsDatabaseIsRefused) {
  testing::TempDir dir;
  const fs::path path = dir / "other.db";
  raw_sql(path, "CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('la');");
  expect_refused_untouched(path, OpenMode::kReadWrite, "another application");
  expect_refused_untouched(path, OpenMode::kReadOnly, "another application");
}

TEST(RegistryFile, MissingFileIsRefusedForQueriesAndNotCreated) {
  testing::TempDir dir;
  const fs::path path = dir / "absent.db";
  try {
    Database::open(path, OpenMode::kReadOnly);
    FAIL() << "expected RegistryError";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(RegistryFile, EmptyFileBecomesARegistryWhenOpenedForWriting) {
  testing::TempDir dir;
  const fs::path path = testing::write_file(dir / "empty.db", "");
  expect_refused_untouched(path, OpenMode::kReadOnly, "empty file");
  Database db = Database::open(path);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
}

TEST(RegistryFile, NewerSchemaStillInTheWalIsRefusedBeforeAnyWrite) {
  testing::TempDir dir;
  const fs::path path = dir / "walnewer.db";
  Database::open(path);
  // Hold a connection open so the bump stays in the -wal file and the main file's header still says v1.
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "PRAGMA wal_autocheckpoint = 0; PRAGMA user_version = 99;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_TRUE(fs::exists(path.string() + "-wal"));
  try {
    Database::open(path, OpenMode::kReadWrite);
    FAIL() << "expected RegistryError";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(holder, "PRAGMA user_version", -1, &statement, nullptr);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), 99);  // not migrated down, not touched
  sqlite3_finalize(statement);
  sqlite3_close(holder);
}

}  // namespace
}  // namespace grove::registry
