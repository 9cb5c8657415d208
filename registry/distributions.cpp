#include "registry/distributions.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "common/utc_time.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, name, version, spec_yaml, fingerprint, source_kind, n_docs, n_bytes, n_docs_skipped, "
    "n_docs_repaired, n_tokens_train, n_tokens_holdout, shard_dir, ingested_at, retired_at FROM distributions ";

DistributionRow read_row(const Statement& s) {
  DistributionRow row;
  row.id = s.get_int64(0);
  row.name = s.get_text(1);
  row.version = s.get_int64(2);
  row.spec_yaml = s.get_text(3);
  row.fingerprint = s.get_text(4);
  row.source_kind = s.get_text(5);
  row.n_docs = s.get_optional_int64(6);
  row.n_bytes = s.get_optional_int64(7);
  row.n_docs_skipped = s.get_optional_int64(8);
  row.n_docs_repaired = s.get_optional_int64(9);
  row.n_tokens_train = s.get_optional_int64(10);
  row.n_tokens_holdout = s.get_optional_int64(11);
  row.shard_dir = s.get_text(12);
  row.ingested_at = s.get_text(13);
  row.retired_at = s.get_optional_text(14);
  return row;
}

int64_t insert_next_version(Database& db, const NewDistribution& d) {
  auto next = db.prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM distributions WHERE name = ?1");
  next.bind_all(d.name).step();
  const int64_t version = next.get_int64(0);
  db.prepare(
        "INSERT INTO distributions (name, version, spec_yaml, fingerprint, source_kind, n_docs, n_bytes, "
        "n_docs_skipped, n_docs_repaired, shard_dir, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
      .bind_all(d.name, version, d.spec_yaml, d.fingerprint, d.source_kind, d.n_docs, d.n_bytes, d.n_docs_skipped,
                d.n_docs_repaired, d.shard_dir, utc_now_iso8601())
      .run();
  return db.last_insert_rowid();
}

}  // namespace

int64_t insert_distribution(Database& db, const NewDistribution& distribution) {
  Savepoint unit(db);
  if (auto current = find_current_distribution(db, distribution.name)) {
    throw RegistryError(fmt::format("registry {}: distribution '{}' already exists (version {}, ingested {}); "
                                    "replace it explicitly to ingest new content under this name",
                                    db.path(), distribution.name, current->version, current->ingested_at),
                        ExitCode::kBadInput);
  }
  const int64_t id = insert_next_version(db, distribution);
  unit.release();
  return id;
}

int64_t replace_distribution(Database& db, const NewDistribution& distribution) {
  Savepoint unit(db);
  if (auto current = find_current_distribution(db, distribution.name)) retire_distribution(db, current->id);
  const int64_t id = insert_next_version(db, distribution);
  unit.release();
  return id;
}

void retire_distribution(Database& db, int64_t id) {
  db.prepare("UPDATE distributions SET retired_at = ?1 WHERE id = ?2 AND retired_at IS NULL")
      .bind_all(utc_now_iso8601(), id)
      .run();
  if (db.changes() == 0) {
    throw RegistryError(fmt::format("registry {}: distribution id {} is not a current distribution", db.path(), id),
                        ExitCode::kBadInput);
  }
}

void set_distribution_token_counts(Database& db, int64_t id, int64_t n_tokens_train, int64_t n_tokens_holdout) {
  db.prepare("UPDATE distributions SET n_tokens_train = ?1, n_tokens_holdout = ?2 WHERE id = ?3")
      .bind_all(n_tokens_train, n_tokens_holdout, id)
      .run();
  if (db.changes() == 0) {
    throw RegistryError(fmt::format("registry {}: no distribution with id {}", db.path(), id), ExitCode::kBadInput);
  }
}

std::optional<DistributionRow> find_distribution(Database& db, int64_t id) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE id = ?1").bind_all(id), read_row);
}

std::optional<DistributionRow> find_current_distribution(Database& db, std::string_view name) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE name = ?1 AND retired_at IS NULL").bind_all(name),
                    read_row);
}

std::optional<DistributionRow> find_distribution_by_fingerprint(Database& db, std::string_view fingerprint) {
  return read_first(
      db.prepare(std::string(kSelect) + "WHERE fingerprint = ?1 AND retired_at IS NULL ORDER BY id").bind_all(fingerprint),
      read_row);
}

std::vector<DistributionRow> list_distributions(Database& db, bool include_retired) {
  auto statement = db.prepare(std::string(kSelect) +
                              (include_retired ? "ORDER BY name, version" : "WHERE retired_at IS NULL ORDER BY id"));
  return read_all(statement, read_row);
}

}  // namespace grove::registry
