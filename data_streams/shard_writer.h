// Writes one token shard (<prefix>.tokens and <prefix>.index, format in shard_format.h) document by document,
// checksumming as it goes. Meant for a temporary folder that is published (renamed) once complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>

#include "common/hashing.h"
#include "data_streams/tokenizer.h"

namespace grove::data {

struct ShardInfo {
  std::filesystem::path index_path;
  std::filesystem::path tokens_path;
  uint64_t docs = 0;
  uint64_t tokens = 0;
  uint64_t bytes = 0;     // UTF-8 bytes of the documents
  std::string xxh3;       // hex xxh3 of the .tokens file
};

class ShardWriter {
 public:
  ShardWriter(const std::filesystem::path& prefix, uint32_t vocab_size, TokenId bos_id, TokenId pad_id,
              uint64_t tokenizer_hash);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void add(std::span<const TokenId> tokens, uint64_t utf8_bytes);
  // Writes the index and closes both files. Throws DataError(kRuntime) naming the file on an I/O failure.
  ShardInfo finish();

 private:
  std::filesystem::path prefix_;
  std::FILE* tokens_ = nullptr;
  uint32_t vocab_size_;
  uint32_t width_;
  TokenId bos_id_;
  TokenId pad_id_;
  uint64_t tokenizer_hash_;
  std::string entries_;
  std::string buffer_;
  ShardInfo info_;
  Xxh3Stream hash_;
};

}  // namespace grove::data
