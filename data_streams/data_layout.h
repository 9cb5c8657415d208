// Where ingested data lives beside a registry file: <registry_dir>/grove-data/
//   distributions/<name>/<fingerprint>/documents.{txt,idx}              one folder per distribution version
//   distributions/<name>/<fingerprint>/tokens-<tokenizer_hash>/{train,holdout}.{tokens,index}
//   tokenizers/<hash>.model
//   tmp/                                                                 work in progress, renamed into place
// The registry stores these paths relative to the registry's folder, so a registry and its grove-data folder can
// move together; resolve() turns a stored path back into a usable one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace grove::registry {
class Database;
}

namespace grove::data {

class TempFolder;

class DataLayout {
 public:
  // `registry_dir` is the folder holding the registry file.
  explicit DataLayout(std::filesystem::path registry_dir);
  // The layout beside an open registry. Throws ConfigError for an in-memory registry (it has no folder).
  static DataLayout for_registry(const registry::Database& db);

  std::filesystem::path root() const { return registry_dir_ / "grove-data"; }
  std::filesystem::path distribution_dir(std::string_view name, std::string_view fingerprint) const;
  std::filesystem::path token_dir(const std::filesystem::path& distribution_dir, std::string_view tokenizer_hash) const;
  std::filesystem::path tokenizer_model(std::string_view hash) const;

  // Stored form (relative to the registry folder) and back.
  std::string to_stored(const std::filesystem::path& path) const;
  std::filesystem::path resolve(const std::string& stored) const;

  // A fresh, empty folder under tmp/ (same file system as the final places, so publishing is a rename), with an
  // owner file beside it (FOLDER.owner: host and pid, flock-ed while the TempFolder lives). First removes the
  // folders whose owner stopped without removing them (killed mid-ingest), so interrupted runs do not pile up
  // copies of corpora.
  TempFolder make_temp_folder(std::string_view purpose) const;

  // Narrows the permissions of `path` (a file, or a folder and everything in it) to the registry folder's: a group or
  // other bit the folder lacks is cleared (the owner's bits are kept), so text and tokens from a corpus are never
  // more readable than the registry beside them. Called before a file or folder is published.
  void limit_permissions(const std::filesystem::path& path) const;

 private:
  std::filesystem::path registry_dir_;
};

// Removes a temporary folder when it goes out of scope unless released (after it was renamed into place), and its
// owner file either way.
class TempFolder {
 public:
  TempFolder(std::filesystem::path path, int owner_fd) : path_(std::move(path)), owner_fd_(owner_fd) {}
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void release() { released_ = true; }

 private:
  std::filesystem::path path_;
  int owner_fd_ = -1;  // the owner file, locked (DataLayout::make_temp_folder)
  bool released_ = false;
};

}  // namespace grove::data
