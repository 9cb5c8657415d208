#include "data_streams/data_layout.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <random>

#include "common/atomic_file.h"
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

// Temporary folders whose owner file names this host and a process that no longer runs: an ingest or tokenize
// killed before its destructors ran (Ctrl-C, SIGTERM, a crash). Another host's folders are left alone (a registry
// on a shared file system), as are folders without an owner file.
void remove_abandoned(const fs::path& tmp) {
  const std::string host = this_host();
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(tmp, error)) {
    const fs::path& owner = entry.path();
    if (owner.extension() != kOwnerSuffix) continue;
    std::ifstream in(owner);
    std::string owner_host;
    long pid = 0;
    if (!(in >> owner_host >> pid) || owner_host != host || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // still running
    fs::path folder = owner;
    folder.replace_extension();
    std::error_code ignored;
    fs::remove_all(folder, ignored);
    fs::remove(owner, ignored);
    log::info("data: removed {}, left by process {} that stopped before cleaning up", folder.string(), pid);
  }
}

}  // namespace

fs::path DataLayout::make_temp_dir(std::string_view purpose) const {
  const fs::path tmp = root() / "tmp";
  fs::create_directories(tmp);
  remove_abandoned(tmp);
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path candidate = tmp / fmt::format("{}-{}-{:08x}", purpose, ::getpid(), device());
    if (fs::exists(owner_file(candidate))) continue;
    // The owner file first: a folder that exists has one, so a later run can tell when it was abandoned.
    atomic_write_file(owner_file(candidate), fmt::format("{} {}\n", this_host(), ::getpid()));
    if (fs::create_directory(candidate)) return candidate;
    fs::remove(owner_file(candidate));
  }
  throw DataError(fmt::format("{}: cannot create a temporary folder", tmp.string()), ExitCode::kRuntime);
}

TempFolder::~TempFolder() {
  std::error_code ignored;
  if (!released_) fs::remove_all(path_, ignored);
  fs::remove(owner_file(path_), ignored);
}

}  // namespace grove::data
