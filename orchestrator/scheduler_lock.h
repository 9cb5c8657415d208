// One scheduler per registry: an advisory lock (flock) on "<registry>.lock" that holds the owner's pid and start
// time. A second scheduler fails to take it and reports who holds it. The kernel drops the lock when the process
// dies, so a crashed scheduler never leaves a stale lock behind.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace grove::orch {

struct LockHolder {
  long pid = 0;         // 0 when the holder had not written its record within a second of being asked
  std::string since;    // UTC ISO-8601
  std::string command;  // what the holder was running
};

// "pid 123, since 2026-11-29T14:00:00Z, running 'grove tick'", or what is known of a holder without a record.
std::string describe(const LockHolder& holder);

class SchedulerLock {
 public:
  // Tries to take the lock without waiting. Returns nullopt when another process holds it; `holder` then says who.
  static std::optional<SchedulerLock> try_acquire(const std::filesystem::path& registry_path, const std::string& command,
                                                  LockHolder* holder);
  ~SchedulerLock();
  SchedulerLock(SchedulerLock&& other) noexcept;
  SchedulerLock& operator=(SchedulerLock&& other) noexcept;
  SchedulerLock(const SchedulerLock&) = delete;
  SchedulerLock& operator=(const SchedulerLock&) = delete;

  static std::filesystem::path lock_path_for(const std::filesystem::path& registry_path);

 private:
  SchedulerLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

// Exit code of a command that found the lock taken (sysexits EX_TEMPFAIL: try again later).
inline constexpr int kLockBusyExitCode = 75;

}  // namespace grove::orch
