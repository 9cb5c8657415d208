// xxh3-64 hashing of bytes, strings and files: fingerprints, checksums and document split keys.
// Streaming hasher for content that arrives in pieces; hex form (16 lowercase digits) for storage.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace grove {

uint64_t xxh3_64(const void* data, size_t size, uint64_t seed = 0);
inline uint64_t xxh3_64(std::string_view text, uint64_t seed = 0) { return xxh3_64(text.data(), text.size(), seed); }
std::string hash_hex(uint64_t hash);

// Incremental xxh3-64: update() pieces in order, digest() any time.
class Xxh3Stream {
 public:
  explicit Xxh3Stream(uint64_t seed = 0);
  ~Xxh3Stream();
  Xxh3Stream(Xxh3Stream&&) noexcept;
  Xxh3Stream& operator=(Xxh3Stream&&) noexcept;
  Xxh3Stream(const Xxh3Stream&) = delete;
  Xxh3Stream& operator=(const Xxh3Stream&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  uint64_t digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// xxh3-64 of a whole file, read in blocks. Throws DataError naming the file when it cannot be read.
uint64_t xxh3_file(const std::filesystem::path& path);

}  // namespace grove
