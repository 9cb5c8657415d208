#include "data_streams/vocabulary_growth.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "common/errors.h"
#include "data_streams/data_layout.h"
#include "data_streams/model_proto_pieces.h"
#include "data_streams/tokenizer_registry.h"
#include "data_streams/tokenizer_training.h"
#include "registry/distributions.h"

namespace grove::data {
namespace {

size_t utf8_characters(const std::string& text) {
  size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

ExtendedModel extend_model(std::string_view base_model, std::string_view own_model, const std::string& name,
                           uint32_t align) {
  const auto base_pieces = read_model_pieces(base_model, name);
  const auto own_pieces = read_model_pieces(own_model, name + " (the new distribution's tokenizer)");
  std::unordered_set<std::string> known;
  float lowest = 0;
  for (const auto& piece : base_pieces) {
    known.insert(piece.text);
    if (piece.type == ModelPiece::Type::kNormal) lowest = std::min(lowest, piece.score);
  }
  float own_highest = -1e30f;
  for (const auto& piece : own_pieces) {
    if (piece.type == ModelPiece::Type::kNormal) own_highest = std::max(own_highest, piece.score);
  }
  std::vector<ModelPiece> added;
  for (const auto& piece : own_pieces) {
    if (piece.type != ModelPiece::Type::kNormal || known.contains(piece.text)) continue;
    ModelPiece copy = piece;
    copy.score = lowest - 1.0f - (own_highest - piece.score);  // below every old piece, in the new model's order
    added.push_back(std::move(copy));
  }
  if (align > 1) {
    const size_t total = (base_pieces.size() + added.size()) / align * align;
    const size_t keep = total > base_pieces.size() ? total - base_pieces.size() : 0;
    // Single characters first, then the highest scores (a BPE merge's parts score above it), so that whatever is
    // kept is spelt by kept or old pieces; the kept ones then go back to the new model's order.
    std::vector<size_t> order(added.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const bool char_a = utf8_characters(added[a].text) == 1, char_b = utf8_characters(added[b].text) == 1;
      if (char_a != char_b) return char_a;
      return added[a].score > added[b].score;
    });
    order.resize(std::min(keep, order.size()));
    std::sort(order.begin(), order.end());
    std::vector<ModelPiece> kept;
    for (const size_t i : order) kept.push_back(std::move(added[i]));
    added = std::move(kept);
  }
  ExtendedModel result;
  if (added.empty()) {
    result.bytes = std::string(base_model);
    return result;
  }
  const auto new_size = static_cast<int64_t>(base_pieces.size() + added.size());
  result.bytes = append_model_pieces(base_model, added, new_size);
  const Tokenizer check = Tokenizer::from_model_bytes(result.bytes, name);
  if (static_cast<int64_t>(check.vocab_size()) != new_size) {
    throw DataError(fmt::format("{}: SentencePiece reads {} pieces, expected {}", name, check.vocab_size(), new_size));
  }
  for (auto& piece : added) result.added.push_back(std::move(piece.text));
  return result;
}

GrownVocabulary grow_vocabulary(registry::Database& db, const registry::TokenizerRow& base,
                                const VocabularyGrowthSpec& spec) {
  const auto started = std::chrono::steady_clock::now();
  const auto distribution = registry::find_current_distribution(db, spec.distribution);
  if (!distribution) {
    throw DataError(fmt::format("registry {}: distribution '{}' is not ingested (run `grove ingest` first)",
                                db.path(), spec.distribution));
  }
  const Tokenizer base_tokenizer = load_registered_tokenizer(db, base);
  const DocumentStore store = DocumentStore::open(DataLayout::for_registry(db).resolve(distribution->shard_dir));
  const auto sample = sample_documents(store, spec.sample_bytes, spec.seed);
  TokenizerSpec own;
  own.kind = base.kind;
  own.vocab_size = spec.pieces;
  own.train_on = {spec.distribution};
  own.sample_bytes_per_distribution = spec.sample_bytes;
  own.seed = spec.seed;
  const std::string own_model = train_sentencepiece(sample, own);

  const ExtendedModel extended =
      extend_model(base_tokenizer.model_bytes(), own_model,
                   fmt::format("{} grown by {}", base.model_path, spec.distribution), spec.align);
  GrownVocabulary result;
  result.tokenizer = base;
  if (!extended.added.empty()) {
    const Tokenizer grown = Tokenizer::from_model_bytes(extended.bytes, base.model_path + " grown");
    auto trained_on = base.trained_on;
    trained_on.push_back(spec.distribution);
    uint64_t sample_bytes = 0;
    for (const auto& doc : sample) sample_bytes += doc.size();
    result.tokenizer = store_tokenizer(db, grown, base.kind, trained_on,
                                       base.sample_bytes.value_or(0) + static_cast<int64_t>(sample_bytes));
    result.added = extended.added;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

std::vector<std::vector<int64_t>> spell_pieces(const Tokenizer& old_tokenizer, const std::vector<std::string>& pieces) {
  static const std::string kSpaceMark = "\u2581";
  std::vector<std::vector<int64_t>> spellings;
  spellings.reserve(pieces.size());
  for (const auto& piece : pieces) {
    std::string text;
    for (size_t i = 0; i < piece.size();) {
      if (piece.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
        text.push_back(' ');
        i += kSpaceMark.size();
      } else {
        text.push_back(piece[i++]);
      }
    }
    const auto ids = old_tokenizer.encode(text);  // [BOS] + pieces
    std::vector<int64_t> spelling(ids.begin() + 1, ids.end());
    if (spelling.empty()) spelling.push_back(old_tokenizer.unk_id());
    spellings.push_back(std::move(spelling));
  }
  return spellings;
}

}  // namespace grove::data
