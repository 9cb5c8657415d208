#include "registry/checkpoints.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "common/utc_time.h"
#include "registry/enum_text.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr EnumText<CheckpointKind, 3> kKinds{"checkpoint kind",
                                             {{{CheckpointKind::kPeriodic, "periodic"},
                                               {CheckpointKind::kPhaseEnd, "phase_end"},
                                               {CheckpointKind::kInterrupt, "interrupt"}}}};

constexpr std::string_view kSelect =
    "SELECT c.id, c.run_id, c.phase_id, c.step, c.path, c.bytes, c.xxh3, c.kind, c.created_at FROM checkpoints c ";

CheckpointRow read_row(const Statement& s) {
  CheckpointRow row;
  row.id = s.get_int64(0);
  row.run_id = s.get_int64(1);
  row.phase_id = s.get_int64(2);
  row.step = s.get_int64(3);
  row.path = s.get_text(4);
  row.bytes = s.get_optional_int64(5);
  row.xxh3 = s.get_text(6);
  row.kind = parse_checkpoint_kind(s.get_text(7));
  row.created_at = s.get_text(8);
  return row;
}

}  // namespace

std::string_view to_text(CheckpointKind kind) { return kKinds.to_text(kind); }
CheckpointKind parse_checkpoint_kind(std::string_view text) { return kKinds.from_text(text); }

int64_t insert_checkpoint(Database& db, const NewCheckpoint& c) {
  db.prepare(
        "INSERT INTO checkpoints (run_id, phase_id, step, path, bytes, xxh3, kind, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind_all(c.run_id, c.phase_id, c.step, c.path, c.bytes, c.xxh3, to_text(c.kind), utc_now_iso8601())
      .run();
  return db.last_insert_rowid();
}

void delete_checkpoint(Database& db, int64_t checkpoint_id) {
  db.prepare("DELETE FROM checkpoints WHERE id = ?1").bind_all(checkpoint_id).run();
  if (db.changes() == 0) {
    throw RegistryError(fmt::format("registry {}: no checkpoint with id {}", db.path(), checkpoint_id),
                        ExitCode::kBadInput);
  }
}

std::optional<CheckpointRow> latest_checkpoint(Database& db, int64_t run_id) {
  return read_first(db.prepare(std::string(kSelect) +
                               "JOIN phases p ON p.id = c.phase_id WHERE c.run_id = ?1 "
                               "ORDER BY p.idx DESC, c.step DESC, c.id DESC LIMIT 1")
                        .bind_all(run_id),
                    read_row);
}

std::vector<CheckpointRow> list_checkpoints(Database& db, int64_t run_id, std::optional<int64_t> phase_id) {
  auto statement =
      db.prepare(std::string(kSelect) + "WHERE c.run_id = ?1 AND (?2 IS NULL OR c.phase_id = ?2) ORDER BY c.id");
  statement.bind_all(run_id, phase_id);
  return read_all(statement, read_row);
}

}  // namespace grove::registry
