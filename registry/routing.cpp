#include "registry/routing.h"

#include "registry/query_rows.h"

namespace grove::registry {

void record_routing(Database& db, const std::vector<RoutingRow>& rows) {
  Savepoint unit(db);
  auto insert = db.prepare(
      "INSERT OR REPLACE INTO routing (run_id, after_phase_id, distribution_id, layer, expert_id, token_fraction) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  for (const RoutingRow& r : rows) {
    insert.bind_all(r.run_id, r.after_phase_id, r.distribution_id, r.layer, r.expert_id, r.token_fraction).run();
  }
  unit.release();
}

std::vector<RoutingRow> list_routing(Database& db, int64_t run_id, std::optional<int64_t> after_phase_id) {
  auto statement = db.prepare(
      "SELECT run_id, after_phase_id, distribution_id, layer, expert_id, token_fraction FROM routing "
      "WHERE run_id = ?1 AND (?2 IS NULL OR after_phase_id = ?2) "
      "ORDER BY after_phase_id, distribution_id, layer, expert_id");
  statement.bind_all(run_id, after_phase_id);
  return read_all(statement, [](const Statement& s) {
    return RoutingRow{s.get_int64(0), s.get_int64(1), s.get_int64(2), s.get_int64(3), s.get_int64(4), s.get_double(5)};
  });
}

}  // namespace grove::registry
