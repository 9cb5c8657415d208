// A run recorded as running is shown as running only while a process holds the registry's scheduler lock: a run
// whose process was killed before it could record anything reads as interrupted, in every run reader.
#include "registry/run_owner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "registry/runs.h"
#include "tests/support/temp_dir.h"

namespace grove::registry {
namespace {

// Every way the registry reads a run, each giving the status it shows.
std::vector<RunStatus> statuses_read(Database& db, int64_t id) {
  return {find_run(db, "run-a")->status, find_run_by_id(db, id)->status, require_run(db, "run-a").status,
          list_runs(db).front().status};
}

TEST(RunOwner, ARunningRunWhoseProcessIsGoneReadsAsInterruptedAndOnlyThen) {
  testing::TempDir dir;
  const auto path = dir / "grove.db";
  auto db = Database::open(path, OpenMode::kReadWrite);
  const int64_t id = create_run(db, {"run-a", "grove", "a: 1\n", 1, std::nullopt, "/w"});
  set_run_status(db, id, RunStatus::kRunning);
  const std::vector<RunStatus> all_interrupted(4, RunStatus::kInterrupted);
  const std::vector<RunStatus> all_running(4, RunStatus::kRunning);

  // No lock file: no process ever held the lock for this registry.
  EXPECT_EQ(statuses_read(db, id), all_interrupted);
  EXPECT_FALSE(std::filesystem::exists(scheduler_lock_path(path))) << "a reader does not create the lock file";

  // A process holding the lock (here this one, on its own descriptor, as a scheduler does): the run is running.
  const int fd = ::open(scheduler_lock_path(path).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(statuses_read(db, id), all_running);
  auto reader = Database::open(path, OpenMode::kReadOnly);
  EXPECT_EQ(statuses_read(reader, id), all_running) << "a read-only reader sees the same";

  // The holder gone (the kernel drops the lock of a killed process the same way), its lock file left behind.
  ::close(fd);
  EXPECT_EQ(statuses_read(reader, id), all_interrupted);

  // Other statuses are shown as recorded, and an in-memory registry (no lock to look at) as recorded too.
  set_run_status(db, id, RunStatus::kFailed);
  EXPECT_EQ(find_run(reader, "run-a")->status, RunStatus::kFailed);
  auto memory = Database::open_in_memory();
  const int64_t in_memory = create_run(memory, {"run-a", "grove", "a: 1\n", 1, std::nullopt, "/w"});
  set_run_status(memory, in_memory, RunStatus::kRunning);
  EXPECT_EQ(statuses_read(memory, in_memory), all_running);
}

}  // namespace
}  // namespace grove::registry
