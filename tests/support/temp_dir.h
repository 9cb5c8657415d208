// A fresh temporary folder per test, removed (with everything in it) when the object goes away.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace grove::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "grove-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Write a text file (creating parent folders) and return its path.
std::filesystem::path write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);
// XORs the byte at `offset` of an existing file with 0x5a, as a bit flip on disk would alter it.
void flip_byte(const std::filesystem::path& path, uint64_t offset);

}  // namespace grove::testing
