#include "common/hashing.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/errors.h"

namespace grove {

struct Xxh3Stream::State {
  XXH3_state_t* xxh = nullptr;
};

uint64_t xxh3_64(const void* data, size_t size, uint64_t seed) { return XXH3_64bits_withSeed(data, size, seed); }

std::string hash_hex(uint64_t hash) { return fmt::format("{:016x}", hash); }

Xxh3Stream::Xxh3Stream(uint64_t seed) : state_(std::make_unique<State>()) {
  state_->xxh = XXH3_createState();
  if (state_->xxh == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset_withSeed(state_->xxh, seed);
}

Xxh3Stream::~Xxh3Stream() {
  if (state_ && state_->xxh) XXH3_freeState(state_->xxh);
}
Xxh3Stream::Xxh3Stream(Xxh3Stream&&) noexcept = default;
Xxh3Stream& Xxh3Stream::operator=(Xxh3Stream&& other) noexcept {
  if (this != &other) {
    if (state_ && state_->xxh) XXH3_freeState(state_->xxh);
    state_ = std::move(other.state_);
  }
  return *this;
}

void Xxh3Stream::update(const void* data, size_t size) { XXH3_64bits_update(state_->xxh, data, size); }
uint64_t Xxh3Stream::digest() const { return XXH3_64bits_digest(state_->xxh); }

uint64_t xxh3_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open for hashing: {}", path.string(), std::strerror(errno)));
  Xxh3Stream stream;
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto got = in.gcount();
    if (got > 0) stream.update(block.data(), static_cast<size_t>(got));
  }
  if (in.bad()) throw DataError(fmt::format("{}: read error while hashing", path.string()));
  return stream.digest();
}

}  // namespace grove
