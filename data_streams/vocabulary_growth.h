// Vocabulary growth: a run whose tokenizer never saw a new distribution (its future was unknown when the tokenizer
// was trained) learns that distribution's pieces when it arrives. A small tokenizer of the same kind is trained on a
// sample of the new distribution, and its pieces the run's tokenizer lacks are appended to it: every old id keeps its
// piece, the new ones follow, and their scores sit below every old score in their own order, so the old merges (BPE)
// or likelihoods (unigram) still decide wherever old pieces apply. The result is an ordinary SentencePiece model,
// stored and registered like any tokenizer (trained_on: the base's distributions plus the new one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data_streams/tokenizer.h"
#include "registry/database.h"
#include "registry/tokenizers.h"

namespace grove::data {

struct VocabularyGrowthSpec {
  std::string distribution;      // the new distribution (its current ingested version)
  uint32_t pieces = 1024;        // vocabulary of the tokenizer trained on it (byte pieces and specials included)
  uint64_t sample_bytes = 4'000'000;
  uint64_t seed = 0;
  // The grown vocabulary is rounded down to a multiple of this (the lowest-scored new pieces are left out): an LM
  // head of an odd row count misses the GEMM shapes GPU tensor cores want (an H100 stepped a third slower with
  // 35,719 pieces than with 32,000).
  uint32_t align = 64;
};

struct GrownVocabulary {
  registry::TokenizerRow tokenizer;  // the grown tokenizer, or `base` itself when nothing was new
  std::vector<std::string> added;    // the appended pieces, in id order from base's vocabulary size
  double seconds = 0;
};

// `base_model` with the normal pieces of `own_model` it lacks appended (scores shifted below base's lowest, their
// order kept); `added` lists them in id order, empty when nothing is new (then `bytes` is `base_model`). DataError
// naming `name` for bytes that are not SentencePiece models.
struct ExtendedModel {
  std::string bytes;
  std::vector<std::string> added;
};
// With `align` > 1 only as many of the new pieces are appended, highest scores first, as bring the vocabulary to the
// largest multiple of `align` within reach (none when that is the base's size or less).
ExtendedModel extend_model(std::string_view base_model, std::string_view own_model, const std::string& name,
                           uint32_t align = 1);

// Deterministic: the same base, distribution and spec give the same model bytes and hash, so runs of one experiment
// share the grown tokenizer and its shards. DataError for a distribution that is not ingested.
GrownVocabulary grow_vocabulary(registry::Database& db, const registry::TokenizerRow& base,
                                const VocabularyGrowthSpec& spec);

// How `old_tokenizer` spells each of `pieces` ("▁" read as a space): the old ids whose embeddings a new piece's row
// starts from. Never empty (a piece always encodes to at least one id, bytes at worst).
std::vector<std::vector<int64_t>> spell_pieces(const Tokenizer& old_tokenizer, const std::vector<std::string>& pieces);

}  // namespace grove::data
