#include "registry/train_metrics.h"

#include "common/utc_time.h"
#include "registry/query_rows.h"

namespace grove::registry {

void record_train_metrics(Database& db, const std::vector<TrainMetricRow>& rows) {
  Savepoint unit(db);
  const std::string now = utc_now_iso8601();
  auto insert = db.prepare(
      "INSERT OR REPLACE INTO train_metrics (run_id, phase_id, step, loss, aux_loss, kd_loss, lr, grad_norm, "
      "tokens_per_s, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  for (const TrainMetricRow& r : rows) {
    insert
        .bind_all(r.run_id, r.phase_id, r.step, r.loss, r.aux_loss, r.kd_loss, r.lr, r.grad_norm, r.tokens_per_s,
                  r.at.empty() ? now : r.at)
        .run();
  }
  unit.release();
}

std::vector<TrainMetricRow> list_train_metrics(Database& db, int64_t phase_id) {
  auto statement = db.prepare(
      "SELECT run_id, phase_id, step, loss, aux_loss, kd_loss, lr, grad_norm, tokens_per_s, at FROM train_metrics "
      "WHERE phase_id = ?1 ORDER BY step");
  statement.bind_all(phase_id);
  return read_all(statement, [](const Statement& s) {
    return TrainMetricRow{s.get_int64(0),           s.get_int64(1),           s.get_int64(2),
                          s.get_optional_double(3), s.get_optional_double(4), s.get_optional_double(5),
                          s.get_optional_double(6), s.get_optional_double(7), s.get_optional_double(8),
                          s.get_text(9)};
  });
}

}  // namespace grove::registry
