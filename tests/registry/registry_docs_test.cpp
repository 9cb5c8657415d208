// docs/REGISTRY.md's example queries work: each ```sql block runs against a populated registry, through the C API
// and through the sqlite3 command-line tool a user would use, and returns rows.
#include <gtest/gtest.h>

#include <filesystem>

#include "registry/database.h"
#include "tests/registry/sample_registry.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> sql_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  const std::string open = "```sql\n";
  for (size_t at = markdown.find(open); at != std::string::npos; at = markdown.find(open, at)) {
    const size_t start = at + open.size();
    const size_t end = markdown.find("```", start);
    blocks.push_back(markdown.substr(start, end - start));
    at = end + 3;
  }
  return blocks;
}

TEST(RegistryDocs, EveryExampleQueryReturnsRows) {
  testing::TempDir dir;
  const fs::path path = dir / "grove.db";
  {
    auto db = registry::Database::open(path);
    testing::populate_sample_run(db, "grove-run", {"en", "de", "py"});
    testing::populate_sample_run(db, "finetune-run", {"en", "de", "py"});
  }
  const auto blocks = sql_blocks(testing::read_file(fs::path(testing::source_dir()) / "docs" / "REGISTRY.md"));
  ASSERT_GE(blocks.size(), 5u) << "docs/REGISTRY.md must show at least five example queries";

  auto db = registry::Database::open(path, registry::OpenMode::kReadOnly);
  for (const std::string& sql : blocks) {
    auto statement = db.prepare(sql);
    int rows = 0;
    while (statement.step()) ++rows;
    EXPECT_GT(rows, 0) << sql;

    if (fs::exists("/usr/bin/sqlite3")) {
      const auto cli = testing::run_process("/usr/bin/sqlite3", {"-readonly", path.string()}, {{}, sql, ""});
      EXPECT_EQ(cli.exit_code, 0) << sql << cli.err;
      EXPECT_TRUE(cli.err.empty()) << sql << cli.err;
      EXPECT_FALSE(cli.out.empty()) << sql;
    }
  }
}

}  // namespace
}  // namespace grove
