#include "data_streams/data_layout.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "common/errors.h"
#include "common/log.h"
#include "registry/database.h"

namespace grove::data {
namespace fs = std::filesystem;

DataLayout::DataLayout(fs::path registry_dir) : registry_dir_(fs::absolute(std::move(registry_dir)).lexically_normal()) {}

DataLayout DataLayout::for_registry(const registry::Database& db) {
  if (db.path() == ":memory:" || db.path().empty()) {
    throw ConfigError("data: an in-memory registry has no folder for ingested data; use a registry file");
  }
  return DataLayout(fs::absolute(db.path()).parent_path());
}

fs::path DataLayout::distribution_dir(std::string_view name, std::string_view fingerprint) const {
  return root() / "distributions" / std::string(name) / std::string(fingerprint);
}

fs::path DataLayout::token_dir(const fs::path& distribution_dir, std::string_view tokenizer_hash) const {
  return distribution_dir / fmt::format("tokens-{}", tokenizer_hash);
}

fs::path DataLayout::tokenizer_model(std::string_view hash) const {
  return root() / "tokenizers" / fmt::format("{}.model", hash);
}

std::string DataLayout::to_stored(const fs::path& path) const {
  return fs::absolute(path).lexically_normal().lexically_relative(registry_dir_).string();
}

fs::path DataLayout::resolve(const std::string& stored) const {
  const fs::path path(stored);
  return path.is_absolute() ? path : registry_dir_ / path;
}

void DataLayout::limit_permissions(const fs::path& path) const {
  struct stat folder {};
  if (::stat(registry_dir_.c_str(), &folder) != 0) {
    throw DataError(fmt::format("{}: cannot read its permissions: {}", registry_dir_.string(), std::strerror(errno)),
                    ExitCode::kRuntime);
  }
  const mode_t allowed = (folder.st_mode & 0777) | S_IRWXU;
  const auto narrow = [&](const fs::path& entry) {
    struct stat st {};
    if (::lstat(entry.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return;
    const mode_t mode = st.st_mode & 07777;
    if ((mode & allowed) != mode && ::chmod(entry.c_str(), mode & allowed) != 0) {
      throw DataError(fmt::format("{}: cannot narrow its permissions: {}", entry.string(), std::strerror(errno)),
                      ExitCode::kRuntime);
    }
  };
  narrow(path);
  if (!fs::is_directory(fs::symlink_status(path))) return;
  for (const auto& entry : fs::recursive_directory_iterator(path)) narrow(entry.path());
}

namespace {

constexpr std::string_view kOwnerSuffix = ".owner";

fs::path owner_file(const fs::path& folder) {
  fs::path owner = folder;
  owner += kOwnerSuffix;
  return owner;
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

// The folders of ingests and tokenizes that stopped before their destructors ran (Ctrl-C, SIGTERM, a crash): their
// owner file is no longer locked. A live owner holds an exclusive flock on it for the folder's whole life, which
// also holds across PID namespaces (containers sharing a host name). Owner files naming another host are left
// alone (a registry on a shared file system whose locks may not reach this host), as are folders without one.
void remove_abandoned(const fs::path& tmp) {
  const std::string host = this_host();
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(tmp, error)) {
    const fs::path& owner = entry.path();
    if (owner.extension() != kOwnerSuffix) continue;
    const int fd = ::open(owner.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // held: its process is still at work
      ::close(fd);
      continue;
    }
    std::ifstream in(owner);
    std::string owner_host;
    long pid = 0;
    if ((in >> owner_host >> pid) && owner_host == host) {
      fs::path folder = owner;
      folder.replace_extension();
      std::error_code ignored;
      fs::remove_all(folder, ignored);
      fs::remove(owner, ignored);
      log::info("data: removed {}, left by process {} that stopped before cleaning up", folder.string(), pid);
    }
    ::close(fd);
  }
}

}  // namespace

TempFolder DataLayout::make_temp_folder(std::string_view purpose) const {
  const fs::path tmp = root() / "tmp";
  fs::create_directories(tmp);
  remove_abandoned(tmp);
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path candidate = tmp / fmt::format("{}-{}-{:08x}", purpose, ::getpid(), device());
    // The owner file first, locked before it says whose it is: a folder that exists has one, held while it lives.
    const int fd = ::open(owner_file(candidate).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      throw DataError(fmt::format("{}: cannot create: {}", owner_file(candidate).string(), std::strerror(errno)),
                      ExitCode::kRuntime);
    }
    const std::string owner = fmt::format("{} {}\n", this_host(), ::getpid());
    if (::flock(fd, LOCK_EX) != 0 || ::write(fd, owner.data(), owner.size()) != static_cast<ssize_t>(owner.size())) {
      const int why = errno;  // before unlink and close can change it
      ::unlink(owner_file(candidate).c_str());
      ::close(fd);
      throw DataError(fmt::format("{}: cannot write: {}", owner_file(candidate).string(), std::strerror(why)),
                      ExitCode::kRuntime);
    }
    std::error_code error;
    if (fs::create_directory(candidate, error)) return TempFolder(candidate, fd);
    ::unlink(owner_file(candidate).c_str());
    ::close(fd);
    if (error) {
      throw DataError(fmt::format("{}: cannot create: {}", candidate.string(), error.message()), ExitCode::kRuntime);
    }
  }
  throw DataError(fmt::format("{}: cannot create a temporary folder", tmp.string()), ExitCode::kRuntime);
}

TempFolder::~TempFolder() {
  std::error_code ignored;
  if (!released_) fs::remove_all(path_, ignored);
  fs::remove(owner_file(path_), ignored);
  if (owner_fd_ >= 0) ::close(owner_fd_);  // the lock goes with it
}

}  // namespace grove::data
