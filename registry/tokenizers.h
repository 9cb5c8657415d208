// The `tokenizers` table: one SentencePiece model per content hash, shared by every run trained with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

enum class TokenizerKind { kBpe, kUnigram };
std::string_view to_text(TokenizerKind kind);             // "bpe" | "unigram"
TokenizerKind parse_tokenizer_kind(std::string_view text);  // RegistryError(kBadInput) on anything else

struct NewTokenizer {
  std::string hash;  // xxh3 hex of the model file: the identity
  TokenizerKind kind = TokenizerKind::kUnigram;
  std::optional<int64_t> vocab_size;
  std::string model_path;
  std::vector<std::string> trained_on;  // distribution names, stored as a JSON array
  std::optional<int64_t> sample_bytes;  // bytes of text the model was trained on
};

struct TokenizerRow : NewTokenizer {
  int64_t id = 0;
  std::string created_at;
};

// Inserts a tokenizer, or returns the id of the row that already has this hash (a tokenizer is stored once).
int64_t register_tokenizer(Database& db, const NewTokenizer& tokenizer);
std::optional<TokenizerRow> find_tokenizer(Database& db, int64_t id);
std::optional<TokenizerRow> find_tokenizer_by_hash(Database& db, std::string_view hash);
std::vector<TokenizerRow> list_tokenizers(Database& db);

}  // namespace grove::registry
