#include "common/atomic_file.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {
namespace fs = std::filesystem;

TEST(AtomicFile, WritesAndReplacesWithoutLeavingTemporaries) {
  testing::TempDir dir;
  atomic_write_file(dir / "a.json", "{\"v\":1}");
  EXPECT_EQ(testing::read_file(dir / "a.json"), "{\"v\":1}");
  atomic_write_file(dir / "a.json", "{\"v\":2}");
  EXPECT_EQ(testing::read_file(dir / "a.json"), "{\"v\":2}");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, FailureNamesThePathAndKeepsTheOldFile) {
  testing::TempDir dir;
  try {
    atomic_write_file(dir / "no-such-folder" / "a.json", "x");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-folder"), std::string::npos);
    EXPECT_EQ(e.exit_code(), ExitCode::kRuntime);
  }
}

TEST(AtomicFile, PublishFolderReplacesTheOldFolderWhole) {
  testing::TempDir dir;
  testing::write_file(dir / "ckpt" / "old.bin", "old");
  testing::write_file(dir / "ckpt.tmp" / "new.bin", "new");
  publish_folder(dir / "ckpt.tmp", dir / "ckpt");
  EXPECT_FALSE(fs::exists(dir / "ckpt.tmp"));
  EXPECT_FALSE(fs::exists(dir / "ckpt" / "old.bin"));
  EXPECT_EQ(testing::read_file(dir / "ckpt" / "new.bin"), "new");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1) << "the old folder moved aside must be gone";
}

}  // namespace
}  // namespace grove
