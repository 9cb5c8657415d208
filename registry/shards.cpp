#include "registry/shards.h"

#include "common/utc_time.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, distribution_id, tokenizer_id, split, path, n_docs, n_tokens, n_bytes, xxh3, created_at FROM shards ";

ShardRow read_row(const Statement& s) {
  ShardRow row;
  row.id = s.get_int64(0);
  row.distribution_id = s.get_int64(1);
  row.tokenizer_id = s.get_int64(2);
  row.split = parse_split(s.get_text(3));
  row.path = s.get_text(4);
  row.n_docs = s.get_int64(5);
  row.n_tokens = s.get_int64(6);
  row.n_bytes = s.get_int64(7);
  row.xxh3 = s.get_text(8);
  row.created_at = s.get_text(9);
  return row;
}

}  // namespace

int64_t record_shard(Database& db, const NewShard& shard) {
  Savepoint unit(db);
  db.prepare(
        "INSERT INTO shards (distribution_id, tokenizer_id, split, path, n_docs, n_tokens, n_bytes, xxh3, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT (distribution_id, tokenizer_id, split) DO UPDATE SET path = excluded.path, "
        "n_docs = excluded.n_docs, n_tokens = excluded.n_tokens, n_bytes = excluded.n_bytes, xxh3 = excluded.xxh3, "
        "created_at = excluded.created_at")
      .bind_all(shard.distribution_id, shard.tokenizer_id, to_text(shard.split), shard.path, shard.n_docs,
                shard.n_tokens, shard.n_bytes, shard.xxh3, utc_now_iso8601())
      .run();
  const int64_t id = find_shard(db, shard.distribution_id, shard.tokenizer_id, shard.split)->id;
  unit.release();
  return id;
}

std::optional<ShardRow> find_shard(Database& db, int64_t distribution_id, int64_t tokenizer_id, Split split) {
  return read_first(db.prepare(std::string(kSelect) +
                               "WHERE distribution_id = ?1 AND tokenizer_id = ?2 AND split = ?3")
                        .bind_all(distribution_id, tokenizer_id, to_text(split)),
                    read_row);
}

std::vector<ShardRow> list_shards(Database& db, std::optional<int64_t> distribution_id) {
  auto statement = db.prepare(std::string(kSelect) +
                              "WHERE ?1 IS NULL OR distribution_id = ?1 "
                              "ORDER BY distribution_id, tokenizer_id, split = 'holdout', id");
  statement.bind_all(distribution_id);
  return read_all(statement, read_row);
}

}  // namespace grove::registry
