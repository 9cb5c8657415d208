// A temporary folder beside a target path, for writing a whole folder and publishing it with one rename
// (common/atomic_file.h publish_folder). Removed with its content on destruction unless released after publishing.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <system_error>

namespace grove::model {

class TempFolder {
 public:
  explicit TempFolder(const std::filesystem::path& target) {
    std::random_device random;
    if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
    path_ = target;
    path_ += fmt::format(".tmp-{}-{:08x}", ::getpid(), random());
    std::filesystem::create_directories(path_);
  }
  ~TempFolder() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const char* name) const { return path_ / name; }
  // Call after the folder was renamed away (published): the destructor then leaves it alone.
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

}  // namespace grove::model
