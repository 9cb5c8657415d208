#include "registry/events.h"

#include "common/utc_time.h"
#include "registry/enum_text.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr EnumText<log::Level, 4> kLevels{"event level",
                                          {{{log::Level::kDebug, "debug"},
                                            {log::Level::kInfo, "info"},
                                            {log::Level::kWarn, "warn"},
                                            {log::Level::kError, "error"}}}};

}  // namespace

int64_t record_event(Database& db, const NewEvent& e) {
  db.prepare("INSERT INTO events (run_id, phase_id, at, level, kind, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_all(e.run_id, e.phase_id, utc_now_iso8601(), kLevels.to_text(e.level), e.kind, e.message)
      .run();
  return db.last_insert_rowid();
}

std::vector<EventRow> list_events(Database& db, std::optional<int64_t> run_id) {
  auto statement = db.prepare(
      "SELECT id, run_id, phase_id, level, kind, message, at FROM events WHERE ?1 IS NULL OR run_id = ?1 ORDER BY id");
  statement.bind_all(run_id);
  return read_all(statement, [](const Statement& s) {
    EventRow row;
    row.id = s.get_int64(0);
    row.run_id = s.get_optional_int64(1);
    row.phase_id = s.get_optional_int64(2);
    row.level = kLevels.from_text(s.get_text(3));
    row.kind = s.get_text(4);
    row.message = s.get_text(5);
    row.at = s.get_text(6);
    return row;
  });
}

}  // namespace grove::registry
