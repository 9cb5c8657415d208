#include "data_streams/data_layout.h"

#include <fmt/format.h>
#include <unistd.h>

#include <random>

#include "common/errors.h"
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

fs::path DataLayout::make_temp_dir(std::string_view purpose) const {
  const fs::path tmp = root() / "tmp";
  fs::create_directories(tmp);
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path candidate = tmp / fmt::format("{}-{}-{:08x}", purpose, ::getpid(), device());
    if (fs::create_directory(candidate)) return candidate;
  }
  throw DataError(fmt::format("{}: cannot create a temporary folder", tmp.string()), ExitCode::kRuntime);
}

TempFolder::~TempFolder() {
  if (released_) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace grove::data
