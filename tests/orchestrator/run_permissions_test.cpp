// Files made from the corpora are no more readable than the registry's folder, wherever they are written: a run in a
// private registry folder, with a permissive umask and the work folder elsewhere, leaves no file or folder that its
// group or others may read, write or enter: documents, shards and the tokenizer model beside the registry,
// checkpoints and their blobs, distribution sketches and rehearsal pools under the work folder.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;
namespace fs = std::filesystem;

class RunPermissions : public RunFixture {};

// Sets the process's umask for the scope (the grove child inherits it).
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

// The entries under `folder` (itself and `except` excluded) with a group or other permission bit, and how many entries
// it holds.
std::pair<std::vector<std::string>, size_t> too_open(const fs::path& folder, const fs::path& except = {}) {
  std::vector<std::string> open;
  size_t entries = 0;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_symlink() || entry.path() == except) continue;
    ++entries;
    const fs::perms perms = entry.status().permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
      open.push_back(entry.path().string());
    }
  }
  return {open, entries};
}

TEST_F(RunPermissions, EveryFileARunWritesIsNoMoreReadableThanThePrivateRegistryFolderWhateverTheUmask) {
  // Sketches and rehearsal pools (and checkpoints under a work folder elsewhere) had the umask's bits: 0644 here.
  fs::permissions(dir_.path(), fs::perms::owner_all);  // 0700: the registry's folder
  testing::TempDir elsewhere("grove-work");
  fs::permissions(elsewhere.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                        fs::perms::others_read | fs::perms::others_exec);  // 0755
  const auto experiment = write_experiment();
  {
    const ScopedUmask permissive(0);
    const auto result =
        grove({"run", experiment.string(), "--work-dir", (elsewhere / "work").string(), "--set=training.threads=1"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  const auto run_dir = elsewhere / "work" / kTinyRun;
  ASSERT_TRUE(fs::exists(run_dir / "rehearsal")) << "the grove strategy writes rehearsal pools";
  ASSERT_TRUE(fs::exists(run_dir / "sketches")) << "and distribution sketches";
  ASSERT_TRUE(fs::exists(run_dir / "blobs"));
  for (const auto& folder : {dir_.path(), elsewhere / "work"}) {
    const auto [open, entries] = too_open(folder, experiment);  // the test's own file
    EXPECT_GE(entries, 10u) << folder;
    EXPECT_TRUE(open.empty()) << open.size() << " of " << entries << " entries under " << folder
                              << " are open to the group or others, e.g. " << (open.empty() ? "" : open.front());
  }
}

}  // namespace
}  // namespace grove
