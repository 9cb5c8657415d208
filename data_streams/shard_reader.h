// Memory-mapped reading of a token shard (format in shard_format.h). Opening validates the magic, version, token
// width and sizes; verify() recomputes both checksums. Every problem is a DataError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>

#include "data_streams/mapped_file.h"
#include "data_streams/shard_format.h"
#include "data_streams/tokenizer.h"

namespace grove::data {

class ShardReader {
 public:
  enum class Verify { kNow, kLater };
  // `index_path` is the shard's .index file; the .tokens file sits beside it. With Verify::kNow the checksums are
  // checked before returning (the loader can defer that and call verify() itself).
  static ShardReader open(const std::filesystem::path& index_path, Verify verify = Verify::kNow);

  // Recomputes the xxh3 of the tokens and of the index entries; throws DataError naming the file on a mismatch.
  void verify() const;

  uint64_t docs() const { return docs_; }
  uint64_t tokens() const { return tokens_; }
  uint64_t bytes() const { return bytes_; }
  uint32_t token_width() const { return width_; }
  uint32_t vocab_size() const { return vocab_size_; }
  TokenId bos_id() const { return bos_id_; }
  TokenId pad_id() const { return pad_id_; }
  uint64_t tokenizer_hash() const { return tokenizer_hash_; }
  const std::filesystem::path& index_path() const { return index_.path(); }

  TokenId token(uint64_t i) const;
  // Copies tokens [begin, begin + count) as int64 (the dtype LibTorch's embedding wants).
  void copy_tokens(uint64_t begin, uint64_t count, int64_t* out) const;
  ShardDocument document(uint64_t i) const;

 private:
  MappedFile index_;
  MappedFile token_file_;
  uint64_t docs_ = 0, tokens_ = 0, bytes_ = 0;
  uint32_t width_ = 2, vocab_size_ = 0;
  TokenId bos_id_ = 0, pad_id_ = 0;
  uint64_t tokens_hash_ = 0, entries_hash_ = 0, tokenizer_hash_ = 0;
};

}  // namespace grove::data
