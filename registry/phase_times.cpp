#include "registry/phase_times.h"

#include <fmt/format.h>

#include <cmath>

#include "common/errors.h"

namespace grove::registry {

std::optional<double> PhaseTimes::goodput() const {
  const double wall = wall_s();
  if (!(wall > 0)) return std::nullopt;
  return static_cast<double>(train_tokens) / wall;
}

void add_phase_times(Database& db, int64_t phase_id, const PhaseTimes& stretch) {
  for (const double seconds : {stretch.setup_s, stretch.training_s, stretch.checkpoint_s, stretch.eval_s,
                               stretch.other_s}) {
    if (!std::isfinite(seconds) || seconds < 0) {
      throw RegistryError(fmt::format("registry {}: phase id {}: time {} s must be a finite number >= 0", db.path(),
                                      phase_id, seconds),
                          ExitCode::kBadInput);
    }
  }
  if (stretch.train_tokens < 0) {
    throw RegistryError(fmt::format("registry {}: phase id {}: train_tokens {} must be >= 0", db.path(), phase_id,
                                    stretch.train_tokens),
                        ExitCode::kBadInput);
  }
  Savepoint unit(db);
  auto exists = db.prepare("SELECT 1 FROM phases WHERE id = ?1");
  exists.bind_all(phase_id);
  if (!exists.step()) {
    throw RegistryError(fmt::format("registry {}: no phase with id {}", db.path(), phase_id), ExitCode::kBadInput);
  }
  db.prepare(
        "INSERT INTO phase_times (phase_id, setup_s, training_s, checkpoint_s, eval_s, other_s, train_tokens) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (phase_id) DO UPDATE SET "
        "setup_s = setup_s + excluded.setup_s, training_s = training_s + excluded.training_s, "
        "checkpoint_s = checkpoint_s + excluded.checkpoint_s, eval_s = eval_s + excluded.eval_s, "
        "other_s = other_s + excluded.other_s, train_tokens = MAX(train_tokens, excluded.train_tokens)")
      .bind_all(phase_id, stretch.setup_s, stretch.training_s, stretch.checkpoint_s, stretch.eval_s, stretch.other_s,
                stretch.train_tokens)
      .run();
  unit.release();
}

std::optional<PhaseTimes> find_phase_times(Database& db, int64_t phase_id) {
  auto statement = db.prepare(
      "SELECT setup_s, training_s, checkpoint_s, eval_s, other_s, train_tokens FROM phase_times WHERE phase_id = ?1");
  statement.bind_all(phase_id);
  if (!statement.step()) return std::nullopt;
  PhaseTimes row;
  row.setup_s = statement.get_double(0);
  row.training_s = statement.get_double(1);
  row.checkpoint_s = statement.get_double(2);
  row.eval_s = statement.get_double(3);
  row.other_s = statement.get_double(4);
  row.train_tokens = statement.get_int64(5);
  return row;
}

}  // namespace grove::registry
