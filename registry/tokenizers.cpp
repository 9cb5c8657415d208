#include "registry/tokenizers.h"

#include <nlohmann/json.hpp>

#include "common/utc_time.h"
#include "registry/enum_text.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr EnumText<TokenizerKind, 2> kKinds{
    "tokenizer kind", {{{TokenizerKind::kBpe, "bpe"}, {TokenizerKind::kUnigram, "unigram"}}}};

constexpr std::string_view kSelect =
    "SELECT id, hash, kind, vocab_size, model_path, trained_on, sample_bytes, created_at FROM tokenizers ";

TokenizerRow read_row(const Statement& s) {
  TokenizerRow row;
  row.id = s.get_int64(0);
  row.hash = s.get_text(1);
  row.kind = parse_tokenizer_kind(s.get_text(2));
  row.vocab_size = s.get_optional_int64(3);
  row.model_path = s.get_text(4);
  row.trained_on = nlohmann::json::parse(s.get_text(5)).get<std::vector<std::string>>();
  row.sample_bytes = s.get_optional_int64(6);
  row.created_at = s.get_text(7);
  return row;
}

}  // namespace

std::string_view to_text(TokenizerKind kind) { return kKinds.to_text(kind); }
TokenizerKind parse_tokenizer_kind(std::string_view text) { return kKinds.from_text(text); }

int64_t register_tokenizer(Database& db, const NewTokenizer& tokenizer) {
  Savepoint unit(db);
  if (auto existing = find_tokenizer_by_hash(db, tokenizer.hash)) return existing->id;
  db.prepare(
        "INSERT INTO tokenizers (hash, kind, vocab_size, model_path, trained_on, sample_bytes, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind_all(tokenizer.hash, to_text(tokenizer.kind), tokenizer.vocab_size, tokenizer.model_path,
                nlohmann::json(tokenizer.trained_on).dump(), tokenizer.sample_bytes, utc_now_iso8601())
      .run();
  const int64_t id = db.last_insert_rowid();
  unit.release();
  return id;
}

std::optional<TokenizerRow> find_tokenizer(Database& db, int64_t id) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE id = ?1").bind_all(id), read_row);
}

std::optional<TokenizerRow> find_tokenizer_by_hash(Database& db, std::string_view hash) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE hash = ?1").bind_all(hash), read_row);
}

std::vector<TokenizerRow> list_tokenizers(Database& db) {
  auto statement = db.prepare(std::string(kSelect) + "ORDER BY id");
  return read_all(statement, read_row);
}

}  // namespace grove::registry
