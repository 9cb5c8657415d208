#include "orchestrator/scheduler_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/errors.h"
#include "common/utc_time.h"
#include "registry/run_owner.h"

namespace grove::orch {
namespace fs = std::filesystem;

std::string describe(const LockHolder& holder) {
  if (holder.pid <= 0) return "its holder has not recorded who it is";
  return fmt::format("pid {}, since {}, running '{}'", holder.pid, holder.since.empty() ? "?" : holder.since,
                     holder.command.empty() ? "?" : holder.command);
}

fs::path SchedulerLock::lock_path_for(const fs::path& registry_path) {
  return registry::scheduler_lock_path(registry_path);
}

namespace {

// The holder's record, or nullopt while it is incomplete: the holder writes it just after taking the lock, so a
// reader can land between the two (and the holder empties it just before letting go).
std::optional<LockHolder> read_holder(int fd) {
  std::string text(64 * 1024, '\0');  // a record is three short lines; the command may be a long one
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::istringstream in(text);
  LockHolder holder;
  bool complete = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("pid=", 0) == 0) holder.pid = std::strtol(line.c_str() + 4, nullptr, 10);
    if (line.rfind("since=", 0) == 0) holder.since = line.substr(6);
    if (line.rfind("command=", 0) == 0) {
      holder.command = line.substr(8);
      complete = !in.eof();  // the record ends with the command line's newline
    }
  }
  if (!complete || holder.pid <= 0) return std::nullopt;
  return holder;
}

}  // namespace

std::optional<SchedulerLock> SchedulerLock::try_acquire(const fs::path& registry_path, const std::string& command,
                                                        LockHolder* holder) {
  const fs::path path = lock_path_for(registry_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RegistryError(fmt::format("{}: cannot open the scheduler lock file: {}", path.string(), std::strerror(errno)));
  }
  // A busy lock whose record is still being written is asked again, for up to a second; if the holder lets go
  // meanwhile, this process takes the lock.
  constexpr int kAttempts = 200;
  for (int attempt = 1;; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    const int saved = errno;
    if (saved != EWOULDBLOCK) {
      ::close(fd);
      throw RegistryError(fmt::format("{}: flock failed: {}", path.string(), std::strerror(saved)));
    }
    // A record of a process that is gone was left by a holder that was killed: the lock is then busy for an
    // instant only, while a run reader looks whether anyone holds it (registry/run_owner.h), and is asked again.
    std::optional<LockHolder> record = read_holder(fd);
    const bool holder_gone = record && ::kill(static_cast<pid_t>(record->pid), 0) != 0 && errno == ESRCH;
    if ((record && !holder_gone) || attempt == kAttempts) {
      if (holder != nullptr) *holder = record.value_or(LockHolder{});
      ::close(fd);
      return std::nullopt;
    }
    ::usleep(5000);
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
