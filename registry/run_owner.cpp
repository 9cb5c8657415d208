#include "registry/run_owner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace grove::registry {

std::filesystem::path scheduler_lock_path(const std::filesystem::path& registry_path) {
  std::filesystem::path path = registry_path;
  path += ".lock";
  return path;
}

bool scheduler_lock_held(const std::filesystem::path& registry_path) {
  if (registry_path.empty() || registry_path == ":memory:") return true;
  const int fd = ::open(scheduler_lock_path(registry_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT;
  // A shared lock taken and let go at once: it fails only while a scheduler holds the exclusive one. A scheduler
  // starting in this instant finds the lock busy without a live holder's record and asks again (scheduler_lock.cpp).
  bool held = true;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    held = false;
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return held;
}

RunStatus status_as_seen(const Database& db, RunStatus stored) {
  if (stored != RunStatus::kRunning || scheduler_lock_held(db.path())) return stored;
  return RunStatus::kInterrupted;
}

}  // namespace grove::registry
