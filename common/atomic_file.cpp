#include "common/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "common/errors.h"

namespace grove {
namespace fs = std::filesystem;
namespace {

DataError io_error(const fs::path& path, const char* what) {
  return DataError(fmt::format("{}: {} failed: {}", path.string(), what, std::strerror(errno)), ExitCode::kRuntime);
}

std::string unique_suffix() {
  std::random_device device;
  return fmt::format(".tmp-{}-{:08x}", ::getpid(), device());
}

}  // namespace

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error(path, "open for fsync");
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) throw io_error(path, "fsync");
}

void atomic_write_file(const fs::path& path, std::string_view bytes) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const fs::path temp = parent / (path.filename().string() + unique_suffix());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(temp, "create");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const auto error = io_error(temp, "write");
      ::close(fd);
      ::unlink(temp.c_str());
      throw error;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const auto error = io_error(temp, "fsync/close");
    ::unlink(temp.c_str());
    throw error;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const auto error = io_error(path, "rename");
    ::unlink(temp.c_str());
    throw error;
  }
  fsync_path(parent);
}

void publish_folder(const fs::path& temp_path, const fs::path& final_path) {
  for (const auto& entry : fs::recursive_directory_iterator(temp_path)) {
    if (entry.is_regular_file()) fsync_path(entry.path());
  }
  fsync_path(temp_path);
  fs::path aside;
  if (fs::exists(final_path)) {
    aside = final_path;
    aside += unique_suffix();
    fs::rename(final_path, aside);
  }
  fs::rename(temp_path, final_path);
  fsync_path(final_path.has_parent_path() ? final_path.parent_path() : fs::path("."));
  if (!aside.empty()) fs::remove_all(aside);
}

}  // namespace grove
