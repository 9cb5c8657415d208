// Training a SentencePiece tokenizer on a deterministic sample of ingested documents. The sample takes documents of
// each distribution's train split in an order fixed by (seed, document), up to a byte budget, so the same spec over
// the same stores always gives the same model bytes and therefore the same tokenizer hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data_streams/document_store.h"
#include "registry/tokenizers.h"

namespace grove::data {

using registry::TokenizerKind;

struct TokenizerSpec {
  TokenizerKind kind = TokenizerKind::kUnigram;
  uint32_t vocab_size = 8000;
  std::vector<std::string> train_on;                   // distribution names
  uint64_t sample_bytes_per_distribution = 4'000'000;  // of train-split text per distribution
  uint64_t seed = 0;
};

// Fixed special ids of every Grove tokenizer.
inline constexpr uint32_t kUnkId = 0, kBosId = 1, kEosId = 2, kPadId = 3;

// Checks the vocabulary size and names; throws ConfigError.
void validate_tokenizer_spec(const TokenizerSpec& spec);

// Up to `max_bytes` of train-split documents from `store` in an order fixed by `seed`: whole documents, at least
// one; a first document larger than `max_bytes` is cut to it (at its last line end within, else at a character).
std::vector<std::string_view> sample_documents(const DocumentStore& store, uint64_t max_bytes, uint64_t seed);

// Trains on `documents` (cut into lines for SentencePiece) and returns the serialized model.
// Throws ConfigError when SentencePiece rejects the settings, in words a user can act on (a vocabulary too large
// for the sample says the largest it supports).
std::string train_sentencepiece(const std::vector<std::string_view>& documents, const TokenizerSpec& spec);

}  // namespace grove::data
