// The token shard format (one per distribution version, tokenizer and split), documented in docs/FORMATS.md:
//   <split>.tokens  flat little-endian token ids, uint16 when the vocabulary fits (<= 65536), else uint32;
//                   every document is [BOS] + pieces, documents back to back
//   <split>.index   a 96-byte header (magic, version, token width, counts, checksums), then 16 bytes per document:
//                   token offset (u64), token count (u32), UTF-8 byte count of the document text (u32)
#pragma once

#include <cstddef>
#include <cstdint>

namespace grove::data {

inline constexpr char kShardMagic[8] = {'G', 'R', 'V', 'S', 'H', 'A', 'R', 'D'};
inline constexpr uint32_t kShardVersion = 1;
inline constexpr size_t kShardHeaderSize = 96;
inline constexpr size_t kShardEntrySize = 16;
inline constexpr char kShardTokensExtension[] = ".tokens";
inline constexpr char kShardIndexExtension[] = ".index";

// Byte offsets of the header fields.
namespace shard_header {
inline constexpr size_t kMagic = 0;           // 8 bytes
inline constexpr size_t kVersion = 8;         // u32
inline constexpr size_t kTokenWidth = 12;     // u32: 2 or 4
inline constexpr size_t kDocs = 16;           // u64
inline constexpr size_t kTokens = 24;         // u64
inline constexpr size_t kBytes = 32;          // u64: UTF-8 bytes of all documents
inline constexpr size_t kTokensXxh3 = 40;     // u64: xxh3 of the whole .tokens file
inline constexpr size_t kEntriesXxh3 = 48;    // u64: xxh3 of the index entries after the header
inline constexpr size_t kVocabSize = 56;      // u32
inline constexpr size_t kBosId = 60;          // u32
inline constexpr size_t kPadId = 64;          // u32
inline constexpr size_t kEntrySize = 68;      // u32: 16
inline constexpr size_t kTokenizerHash = 72;  // u64: xxh3 of the tokenizer model
// 80..95 reserved, zero
}  // namespace shard_header

// 2 when every id of a vocabulary of `vocab_size` fits in uint16, else 4.
constexpr uint32_t token_width_for(uint32_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

// Per-document entry of a shard.
struct ShardDocument {
  uint64_t token_offset = 0;
  uint32_t token_count = 0;
  uint32_t utf8_bytes = 0;
};

}  // namespace grove::data
