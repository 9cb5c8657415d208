#include "orchestrator/scheduler_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/errors.h"
#include "common/utc_time.h"

namespace grove::orch {
namespace fs = std::filesystem;

fs::path SchedulerLock::lock_path_for(const fs::path& registry_path) {
  fs::path path = registry_path;
  path += ".lock";
  return path;
}

std::optional<SchedulerLock> SchedulerLock::try_acquire(const fs::path& registry_path, const std::string& command,
                                                        LockHolder* holder) {
  const fs::path path = lock_path_for(registry_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RegistryError(fmt::format("{}: cannot open the scheduler lock file: {}", path.string(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int saved = errno;
    if (saved != EWOULDBLOCK) {
      ::close(fd);
      throw RegistryError(fmt::format("{}: flock failed: {}", path.string(), std::strerror(saved)));
    }
    if (holder != nullptr) {
      char buffer[512] = {};
      const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
      std::istringstream in(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0));
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("pid=", 0) == 0) holder->pid = std::strtol(line.c_str() + 4, nullptr, 10);
        if (line.rfind("since=", 0) == 0) holder->since = line.substr(6);
        if (line.rfind("command=", 0) == 0) holder->command = line.substr(8);
      }
    }
    ::close(fd);
    return std::nullopt;
  }
  const std::string content = fmt::format("pid={}\nsince={}\ncommand={}\n", ::getpid(), utc_now_iso8601(), command);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, content.data(), content.size(), 0) < 0) {
    ::close(fd);
    throw RegistryError(fmt::format("{}: cannot write the lock holder: {}", path.string(), std::strerror(errno)));
  }
  return SchedulerLock(fd, path);
}

SchedulerLock::~SchedulerLock() {
  if (fd_ >= 0) {
    if (::ftruncate(fd_, 0) != 0) {
      // The holder text is informational; the flock itself is released by close.
    }
    ::close(fd_);
  }
}

SchedulerLock::SchedulerLock(SchedulerLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

SchedulerLock& SchedulerLock::operator=(SchedulerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

}  // namespace grove::orch
