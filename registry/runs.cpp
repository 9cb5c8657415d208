#include "registry/runs.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/errors.h"
#include "common/utc_time.h"
#include "common/version.h"
#include "registry/enum_text.h"
#include "registry/query_rows.h"
#include "registry/run_owner.h"

namespace grove::registry {
namespace {

constexpr EnumText<RunStatus, 5> kStatuses{"run status",
                                           {{{RunStatus::kPending, "pending"},
                                             {RunStatus::kRunning, "running"},
                                             {RunStatus::kDone, "done"},
                                             {RunStatus::kFailed, "failed"},
                                             {RunStatus::kInterrupted, "interrupted"}}}};

constexpr std::string_view kSelect =
    "SELECT id, name, strategy, config_yaml, status, seed, tokenizer_id, work_dir, created_at, updated_at, "
    "grove_version FROM runs ";

RunRow read_row(const Statement& s) {
  RunRow row;
  row.id = s.get_int64(0);
  row.name = s.get_text(1);
  row.strategy = s.get_text(2);
  row.config_yaml = s.get_text(3);
  row.status = parse_run_status(s.get_text(4));
  row.seed = s.get_int64(5);
  row.tokenizer_id = s.get_optional_int64(6);
  row.work_dir = s.get_optional_text(7);
  row.created_at = s.get_text(8);
  row.updated_at = s.get_text(9);
  row.grove_version = s.get_text(10);
  return row;
}

// `column` is one of this file's column names, never input.
template <typename T>
void update_run(Database& db, std::string_view column, int64_t run_id, const T& value) {
  db.prepare(fmt::format("UPDATE runs SET {} = ?1, updated_at = ?2 WHERE id = ?3", column))
      .bind_all(value, utc_now_iso8601(), run_id)
      .run();
  if (db.changes() == 0) {
    throw RegistryError(fmt::format("registry {}: no run with id {}", db.path(), run_id), ExitCode::kBadInput);
  }
}

}  // namespace

std::string_view to_text(RunStatus status) { return kStatuses.to_text(status); }
RunStatus parse_run_status(std::string_view text) { return kStatuses.from_text(text); }

int64_t create_run(Database& db, const NewRun& run) {
  Savepoint unit(db);
  if (find_run(db, run.name)) {
    throw RegistryError(fmt::format("registry {}: a run named '{}' already exists; choose another name or resume it",
                                    db.path(), run.name),
                        ExitCode::kBadInput);
  }
  const std::string now = utc_now_iso8601();
  db.prepare(
        "INSERT INTO runs (name, strategy, config_yaml, status, seed, tokenizer_id, work_dir, created_at, updated_at, "
        "grove_version) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?7, ?8)")
      .bind_all(run.name, run.strategy, run.config_yaml, run.seed, run.tokenizer_id, run.work_dir, now, kVersion)
      .run();
  const int64_t id = db.last_insert_rowid();
  unit.release();
  return id;
}

namespace {

// A row as readers see it: a run left `running` by a process that is gone reads as interrupted (run_owner.h).
std::optional<RunRow> as_seen(const Database& db, std::optional<RunRow> row) {
  if (row) row->status = status_as_seen(db, row->status);
  return row;
}

}  // namespace

std::optional<RunRow> find_run(Database& db, std::string_view name) {
  return as_seen(db, read_first(db.prepare(std::string(kSelect) + "WHERE name = ?1").bind_all(name), read_row));
}

std::optional<RunRow> find_run_by_id(Database& db, int64_t id) {
  return as_seen(db, read_first(db.prepare(std::string(kSelect) + "WHERE id = ?1").bind_all(id), read_row));
}

RunRow require_run(Database& db, std::string_view name) {
  if (auto run = find_run(db, name)) return *run;
  std::string known;
  for (const RunRow& row : list_runs(db)) known += fmt::format("{}'{}'", known.empty() ? "" : ", ", row.name);
  throw RegistryError(fmt::format("registry {}: no run named '{}' (runs: {})", db.path(), name,
                                  known.empty() ? "none yet" : known),
                      ExitCode::kBadInput);
}

std::vector<RunRow> list_runs(Database& db) {
  auto statement = db.prepare(std::string(kSelect) + "ORDER BY id");
  auto rows = read_all(statement, read_row);
  const bool any_running = std::any_of(rows.begin(), rows.end(), [](const RunRow& row) {
    return row.status == RunStatus::kRunning;
  });
  if (any_running && !scheduler_lock_held(db.path())) {  // one look at the lock for every row
    for (auto& row : rows) row.status = row.status == RunStatus::kRunning ? RunStatus::kInterrupted : row.status;
  }
  return rows;
}

void set_run_status(Database& db, int64_t run_id, RunStatus status) {
  update_run(db, "status", run_id, to_text(status));
}

void set_run_tokenizer(Database& db, int64_t run_id, int64_t tokenizer_id) {
  update_run(db, "tokenizer_id", run_id, tokenizer_id);
}

}  // namespace grove::registry
