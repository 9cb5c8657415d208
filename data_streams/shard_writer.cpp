#include "data_streams/shard_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/errors.h"
#include "data_streams/little_endian.h"
#include "data_streams/shard_format.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

fs::path with_extension(const fs::path& prefix, const char* extension) {
  fs::path path = prefix;
  path += extension;
  return path;
}

DataError write_error(const fs::path& path) {
  return DataError(fmt::format("{}: write failed: {}", path.string(), std::strerror(errno)), ExitCode::kRuntime);
}

}  // namespace

ShardWriter::ShardWriter(const fs::path& prefix, uint32_t vocab_size, TokenId bos_id, TokenId pad_id,
                         uint64_t tokenizer_hash)
    : prefix_(prefix),
      vocab_size_(vocab_size),
      width_(token_width_for(vocab_size)),
      bos_id_(bos_id),
      pad_id_(pad_id),
      tokenizer_hash_(tokenizer_hash) {
  info_.index_path = with_extension(prefix, kShardIndexExtension);
  info_.tokens_path = with_extension(prefix, kShardTokensExtension);
  tokens_ = std::fopen(info_.tokens_path.c_str(), "wb");
  if (tokens_ == nullptr) throw write_error(info_.tokens_path);
}

ShardWriter::~ShardWriter() {
  if (tokens_ != nullptr) std::fclose(tokens_);
}

void ShardWriter::add(std::span<const TokenId> tokens, uint64_t utf8_bytes) {
  if (tokens.size() > UINT32_MAX || utf8_bytes > UINT32_MAX) {
    throw DataError(fmt::format("{}: a document of {} tokens / {} bytes exceeds the shard index's 32-bit counts",
                                info_.index_path.string(), tokens.size(), utf8_bytes));
  }
  buffer_.clear();
  for (TokenId id : tokens) {
    if (id >= vocab_size_) {
      throw DataError(fmt::format("{}: token id {} is outside the vocabulary of {}", info_.tokens_path.string(), id,
                                  vocab_size_));
    }
    if (width_ == 2) append_le<uint16_t>(buffer_, static_cast<uint16_t>(id));
    else append_le<uint32_t>(buffer_, id);
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), tokens_) != buffer_.size()) throw write_error(info_.tokens_path);
  hash_.update(buffer_);
  append_le<uint64_t>(entries_, info_.tokens);
  append_le<uint32_t>(entries_, static_cast<uint32_t>(tokens.size()));
  append_le<uint32_t>(entries_, static_cast<uint32_t>(utf8_bytes));
  ++info_.docs;
  info_.tokens += tokens.size();
  info_.bytes += utf8_bytes;
}

ShardInfo ShardWriter::finish() {
  const int rc = std::fclose(tokens_);
  tokens_ = nullptr;
  if (rc != 0) throw write_error(info_.tokens_path);
  const uint64_t tokens_hash = hash_.digest();
  std::string header(kShardMagic, sizeof(kShardMagic));
  append_le<uint32_t>(header, kShardVersion);
  append_le<uint32_t>(header, width_);
  append_le<uint64_t>(header, info_.docs);
  append_le<uint64_t>(header, info_.tokens);
  append_le<uint64_t>(header, info_.bytes);
  append_le<uint64_t>(header, tokens_hash);
  append_le<uint64_t>(header, xxh3_64(entries_));
  append_le<uint32_t>(header, vocab_size_);
  append_le<uint32_t>(header, bos_id_);
  append_le<uint32_t>(header, pad_id_);
  append_le<uint32_t>(header, static_cast<uint32_t>(kShardEntrySize));
  append_le<uint64_t>(header, tokenizer_hash_);
  header.resize(kShardHeaderSize, '\0');
  std::FILE* index = std::fopen(info_.index_path.c_str(), "wb");
  if (index == nullptr) throw write_error(info_.index_path);
  const bool ok = std::fwrite(header.data(), 1, header.size(), index) == header.size() &&
                  std::fwrite(entries_.data(), 1, entries_.size(), index) == entries_.size();
  if (std::fclose(index) != 0 || !ok) throw write_error(info_.index_path);
  info_.xxh3 = hash_hex(tokens_hash);
  return info_;
}

}  // namespace grove::data
