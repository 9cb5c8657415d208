#include "registry/evals.h"

#include <map>
#include <utility>

#include "common/utc_time.h"
#include "registry/distributions.h"
#include "registry/enum_text.h"
#include "registry/phases.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr EnumText<EvalStage, 2> kStages{"eval stage", {{{EvalStage::kBefore, "before"}, {EvalStage::kAfter, "after"}}}};

EvalView read_view(const Statement& s) {
  EvalView row;
  row.id = s.get_int64(0);
  row.run_id = s.get_int64(1);
  row.after_phase_id = s.get_int64(2);
  row.stage = parse_eval_stage(s.get_text(3));
  row.distribution_id = s.get_int64(4);
  row.split = s.get_text(5);
  row.bpb = s.get_optional_double(6);
  row.loss = s.get_optional_double(7);
  row.ppl = s.get_optional_double(8);
  row.tokens = s.get_optional_int64(9);
  row.bytes = s.get_optional_int64(10);
  row.created_at = s.get_text(11);
  row.phase_idx = s.get_int64(12);
  row.distribution = s.get_text(13);
  return row;
}

}  // namespace

std::string_view to_text(EvalStage stage) { return kStages.to_text(stage); }
EvalStage parse_eval_stage(std::string_view text) { return kStages.from_text(text); }

int64_t upsert_eval(Database& db, const NewEval& e) {
  Savepoint unit(db);
  auto upsert = db.prepare(
      "INSERT INTO evals (run_id, after_phase_id, stage, distribution_id, split, bpb, loss, ppl, tokens, bytes, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
      "ON CONFLICT (run_id, after_phase_id, stage, distribution_id, split) DO UPDATE SET bpb = excluded.bpb, "
      "loss = excluded.loss, ppl = excluded.ppl, tokens = excluded.tokens, bytes = excluded.bytes, "
      "created_at = excluded.created_at RETURNING id");
  upsert.bind_all(e.run_id, e.after_phase_id, to_text(e.stage), e.distribution_id, e.split, e.bpb, e.loss, e.ppl,
                  e.tokens, e.bytes, utc_now_iso8601());
  upsert.step();
  const int64_t id = upsert.get_int64(0);
  upsert.reset();
  unit.release();
  return id;
}

std::vector<EvalView> list_evals(Database& db, int64_t run_id) {
  auto statement = db.prepare(
      "SELECT e.id, e.run_id, e.after_phase_id, e.stage, e.distribution_id, e.split, e.bpb, e.loss, e.ppl, e.tokens, "
      "e.bytes, e.created_at, p.idx, d.name FROM evals e "
      "JOIN phases p ON p.id = e.after_phase_id JOIN distributions d ON d.id = e.distribution_id "
      "WHERE e.run_id = ?1 "
      "ORDER BY p.idx, e.stage = 'after', "
      "(SELECT MIN(q.idx) FROM phases q WHERE q.run_id = e.run_id AND q.distribution_id = e.distribution_id), "
      "e.distribution_id, e.split");
  statement.bind_all(run_id);
  return read_all(statement, read_view);
}

EvalMatrix eval_matrix(Database& db, int64_t run_id, std::string_view split) {
  ReadSnapshot snapshot(db);  // phases and evals from the same commit
  const std::vector<PhaseRow> phases = list_phases(db, run_id);
  std::map<int64_t, size_t> row_of_phase;    // phase id -> i
  std::map<int64_t, size_t> column_of_dist;  // distribution id -> j (its first phase)
  for (size_t i = 0; i < phases.size(); ++i) {
    row_of_phase[phases[i].id] = i;
    column_of_dist.emplace(phases[i].distribution_id, i);
  }
  const size_t all = phases.size();
  std::vector<std::vector<Cell>> after(all, std::vector<Cell>(all));
  std::vector<Cell> init(all);
  std::vector<Cell> before(all);  // stage 'before' of phase j on its own distribution
  size_t rows = 0;                // phases up to the last one evaluated 'after'
  for (const EvalView& e : list_evals(db, run_id)) {
    const auto row = row_of_phase.find(e.after_phase_id);
    if (e.split != split || !e.bpb || row == row_of_phase.end()) continue;
    const size_t i = row->second;
    const auto column = column_of_dist.find(e.distribution_id);
    if (column == column_of_dist.end()) continue;  // a distribution no phase of this run trains on
    const size_t j = column->second;
    if (e.stage == EvalStage::kAfter) {
      after[i][j] = e.bpb;
      rows = std::max(rows, i + 1);
    } else if (i == 0) {
      init[j] = e.bpb;
    }
    if (e.stage == EvalStage::kBefore && i == j) before[j] = e.bpb;
  }
  for (size_t j = 1; j < all; ++j) {
    if (!after[j - 1][j]) after[j - 1][j] = before[j];
  }

  EvalMatrix matrix;
  for (size_t j = 0; j < rows; ++j) {
    matrix.distributions.push_back(find_distribution(db, phases[j].distribution_id)->name);
    matrix.init.push_back(init[j]);
    matrix.after.emplace_back(after[j].begin(), after[j].begin() + static_cast<std::ptrdiff_t>(rows));
  }
  return matrix;
}

}  // namespace grove::registry
