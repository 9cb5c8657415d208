// A read-only memory map of a whole file, owned RAII-style (unmapped and closed in the destructor). Shards and
// document stores are read through it so training touches only the pages it samples.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace grove::data {

class MappedFile {
 public:
  // Maps `path` read-only. Throws DataError naming the file when it cannot be opened or mapped.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  void release() noexcept;
  const char* data_ = nullptr;
  size_t size_ = 0;
  std::filesystem::path path_;
};

}  // namespace grove::data
