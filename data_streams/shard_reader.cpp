#include "data_streams/shard_reader.h"

#include <fmt/format.h>

#include <cstring>

#include "common/errors.h"
#include "common/hashing.h"
#include "data_streams/little_endian.h"

namespace grove::data {
namespace fs = std::filesystem;

ShardReader ShardReader::open(const fs::path& index_path, Verify verify) {
  namespace h = shard_header;
  ShardReader shard;
  shard.index_ = MappedFile::open(index_path);
  const std::string name = index_path.string();
  const char* header = shard.index_.data();
  if (shard.index_.size() < kShardHeaderSize || std::memcmp(header + h::kMagic, kShardMagic, sizeof(kShardMagic)) != 0) {
    throw DataError(fmt::format("{}: not a Grove shard index (bad magic or shorter than the {}-byte header)", name,
                                kShardHeaderSize));
  }
  const auto version = read_le<uint32_t>(header + h::kVersion);
  if (version != kShardVersion) {
    throw DataError(fmt::format("{}: shard format version {} is not supported (this Grove reads version {})", name,
                                version, kShardVersion));
  }
  shard.width_ = read_le<uint32_t>(header + h::kTokenWidth);
  shard.docs_ = read_le<uint64_t>(header + h::kDocs);
  shard.tokens_ = read_le<uint64_t>(header + h::kTokens);
  shard.bytes_ = read_le<uint64_t>(header + h::kBytes);
  shard.tokens_hash_ = read_le<uint64_t>(header + h::kTokensXxh3);
  shard.entries_hash_ = read_le<uint64_t>(header + h::kEntriesXxh3);
  shard.vocab_size_ = read_le<uint32_t>(header + h::kVocabSize);
  shard.bos_id_ = read_le<uint32_t>(header + h::kBosId);
  shard.pad_id_ = read_le<uint32_t>(header + h::kPadId);
  shard.tokenizer_hash_ = read_le<uint64_t>(header + h::kTokenizerHash);
  if (shard.width_ != token_width_for(shard.vocab_size_)) {
    throw DataError(fmt::format("{}: token width {} does not fit a vocabulary of {}", name, shard.width_,
                                shard.vocab_size_));
  }
  if (read_le<uint32_t>(header + h::kEntrySize) != kShardEntrySize ||
      shard.index_.size() != kShardHeaderSize + shard.docs_ * kShardEntrySize) {
    throw DataError(fmt::format("{}: {} bytes do not match its {} documents (truncated?)", name, shard.index_.size(),
                                shard.docs_));
  }
  fs::path tokens_path = index_path;
  tokens_path.replace_extension(kShardTokensExtension);
  shard.token_file_ = MappedFile::open(tokens_path);
  if (shard.token_file_.size() != shard.tokens_ * shard.width_) {
    throw DataError(fmt::format("{}: {} bytes, the index expects {} tokens of {} bytes (truncated?)",
                                tokens_path.string(), shard.token_file_.size(), shard.tokens_, shard.width_));
  }
  if (verify == Verify::kNow) shard.verify();
  return shard;
}

void ShardReader::verify() const {
  if (xxh3_64(token_file_.data(), token_file_.size()) != tokens_hash_) {
    throw DataError(fmt::format("{}: checksum mismatch: the token file was altered or damaged since it was written",
                                token_file_.path().string()));
  }
  if (xxh3_64(index_.data() + kShardHeaderSize, index_.size() - kShardHeaderSize) != entries_hash_) {
    throw DataError(fmt::format("{}: checksum mismatch: the document index was altered or damaged", index_.path().string()));
  }
}

TokenId ShardReader::token(uint64_t i) const {
  const char* at = token_file_.data() + i * width_;
  return width_ == 2 ? read_le<uint16_t>(at) : read_le<uint32_t>(at);
}

void ShardReader::copy_tokens(uint64_t begin, uint64_t count, int64_t* out) const {
  const char* at = token_file_.data() + begin * width_;
  if (width_ == 2) {
    for (uint64_t k = 0; k < count; ++k) out[k] = read_le<uint16_t>(at + 2 * k);
  } else {
    for (uint64_t k = 0; k < count; ++k) out[k] = read_le<uint32_t>(at + 4 * k);
  }
}

ShardDocument ShardReader::document(uint64_t i) const {
  const char* entry = index_.data() + kShardHeaderSize + i * kShardEntrySize;
  return {read_le<uint64_t>(entry), read_le<uint32_t>(entry + 8), read_le<uint32_t>(entry + 12)};
}

}  // namespace grove::data
