#include "registry/phases.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "common/utc_time.h"
#include "registry/enum_text.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr EnumText<PhaseStatus, 6> kStatuses{"phase status",
                                             {{{PhaseStatus::kPending, "pending"},
                                               {PhaseStatus::kTraining, "training"},
                                               {PhaseStatus::kEvaluating, "evaluating"},
                                               {PhaseStatus::kDone, "done"},
                                               {PhaseStatus::kInterrupted, "interrupted"},
                                               {PhaseStatus::kFailed, "failed"}}}};

constexpr EnumText<GrowthDecision, 3> kDecisions{
    "growth decision",
    {{{GrowthDecision::kBase, "base"}, {GrowthDecision::kGrow, "grow"}, {GrowthDecision::kNoGrow, "no_grow"}}}};

constexpr std::string_view kSelect =
    "SELECT id, run_id, idx, distribution_id, decision, decision_reason, experts_added, status, steps_done, "
    "steps_total, started_at, finished_at, params_total, params_active, trained_group, tokenizer_id FROM phases ";

PhaseRow read_row(const Statement& s) {
  PhaseRow row;
  row.id = s.get_int64(0);
  row.run_id = s.get_int64(1);
  row.idx = s.get_int64(2);
  row.distribution_id = s.get_int64(3);
  if (auto decision = s.get_optional_text(4)) row.decision = parse_growth_decision(*decision);
  row.decision_reason = s.get_optional_text(5);
  row.experts_added = s.get_int64(6);
  row.status = parse_phase_status(s.get_text(7));
  row.steps_done = s.get_int64(8);
  row.steps_total = s.get_int64(9);
  row.started_at = s.get_optional_text(10);
  row.finished_at = s.get_optional_text(11);
  row.params_total = s.get_optional_int64(12);
  row.params_active = s.get_optional_int64(13);
  row.trained_group = s.get_optional_int64(14);
  row.tokenizer_id = s.get_optional_int64(15);
  return row;
}

PhaseRow require_phase(Database& db, int64_t phase_id) {
  if (auto phase = find_phase_by_id(db, phase_id)) return *phase;
  throw RegistryError(fmt::format("registry {}: no phase with id {}", db.path(), phase_id), ExitCode::kBadInput);
}

}  // namespace

std::string_view to_text(PhaseStatus status) { return kStatuses.to_text(status); }
PhaseStatus parse_phase_status(std::string_view text) { return kStatuses.from_text(text); }
std::string_view to_text(GrowthDecision decision) { return kDecisions.to_text(decision); }
GrowthDecision parse_growth_decision(std::string_view text) { return kDecisions.from_text(text); }

bool is_legal_transition(PhaseStatus from, PhaseStatus to) {
  using S = PhaseStatus;
  switch (from) {
    case S::kPending:
      return to == S::kTraining;
    case S::kTraining:
      return to == S::kEvaluating || to == S::kInterrupted || to == S::kFailed;
    case S::kEvaluating:
      return to == S::kDone || to == S::kInterrupted || to == S::kFailed;
    case S::kInterrupted:
      return to == S::kTraining;
    case S::kDone:
    case S::kFailed:
      return false;
  }
  return false;
}

int64_t create_phase(Database& db, const NewPhase& phase) {
  Savepoint unit(db);
  if (find_phase(db, phase.run_id, phase.idx)) {
    throw RegistryError(
        fmt::format("registry {}: run id {} already has a phase {}", db.path(), phase.run_id, phase.idx),
        ExitCode::kBadInput);
  }
  std::optional<std::string_view> decision;
  if (phase.decision) decision = to_text(*phase.decision);
  db.prepare(
        "INSERT INTO phases (run_id, idx, distribution_id, decision, decision_reason, experts_added, status, "
        "steps_total) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)")
      .bind_all(phase.run_id, phase.idx, phase.distribution_id, decision, phase.decision_reason, phase.experts_added,
                phase.steps_total)
      .run();
  const int64_t id = db.last_insert_rowid();
  unit.release();
  return id;
}

void transition_phase(Database& db, int64_t phase_id, PhaseStatus to) {
  Savepoint unit(db);
  const PhaseRow phase = require_phase(db, phase_id);
  if (!is_legal_transition(phase.status, to)) {
    throw RegistryError(fmt::format("registry {}: phase {} of run id {} cannot go from '{}' to '{}'", db.path(),
                                    phase.idx, phase.run_id, to_text(phase.status), to_text(to)));
  }
  const std::string now = utc_now_iso8601();
  const bool starts = to == PhaseStatus::kTraining;
  const bool finishes = to == PhaseStatus::kDone || to == PhaseStatus::kFailed;
  db.prepare(
        "UPDATE phases SET status = ?1, "
        "started_at = CASE WHEN ?2 AND started_at IS NULL THEN ?4 ELSE started_at END, "
        "finished_at = CASE WHEN ?3 THEN ?4 ELSE finished_at END WHERE id = ?5")
      .bind_all(to_text(to), int64_t{starts}, int64_t{finishes}, now, phase_id)
      .run();
  unit.release();
}

void set_phase_decision(Database& db, int64_t phase_id, GrowthDecision decision, std::string_view reason,
                        int64_t experts_added) {
  db.prepare("UPDATE phases SET decision = ?1, decision_reason = ?2, experts_added = ?3 WHERE id = ?4")
      .bind_all(to_text(decision), reason, experts_added, phase_id)
      .run();
  if (db.changes() == 0) require_phase(db, phase_id);
}

void set_phase_trained_group(Database& db, int64_t phase_id, std::optional<int64_t> group) {
  db.prepare("UPDATE phases SET trained_group = ?1 WHERE id = ?2").bind_all(group, phase_id).run();
  if (db.changes() == 0) require_phase(db, phase_id);
}

void set_phase_tokenizer(Database& db, int64_t phase_id, std::optional<int64_t> tokenizer_id) {
  db.prepare("UPDATE phases SET tokenizer_id = ?1 WHERE id = ?2").bind_all(tokenizer_id, phase_id).run();
  if (db.changes() == 0) require_phase(db, phase_id);
}

void set_phase_progress(Database& db, int64_t phase_id, int64_t steps_done) {
  db.prepare("UPDATE phases SET steps_done = MIN(?1, steps_total) WHERE id = ?2").bind_all(steps_done, phase_id).run();
  if (db.changes() == 0) require_phase(db, phase_id);
}

std::optional<PhaseRow> find_phase(Database& db, int64_t run_id, int64_t idx) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE run_id = ?1 AND idx = ?2").bind_all(run_id, idx),
                    read_row);
}

std::optional<PhaseRow> find_phase_by_id(Database& db, int64_t phase_id) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE id = ?1").bind_all(phase_id), read_row);
}

std::vector<PhaseRow> list_phases(Database& db, int64_t run_id) {
  auto statement = db.prepare(std::string(kSelect) + "WHERE run_id = ?1 ORDER BY idx");
  statement.bind_all(run_id);
  return read_all(statement, read_row);
}

std::optional<PhaseRow> newest_unfinished_phase(Database& db, int64_t run_id) {
  return read_first(db.prepare(std::string(kSelect) +
                               "WHERE run_id = ?1 AND status IN ('pending', 'training', 'evaluating', 'interrupted') "
                               "ORDER BY idx DESC LIMIT 1")
                        .bind_all(run_id),
                    read_row);
}

}  // namespace grove::registry
