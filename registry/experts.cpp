#include "registry/experts.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "registry/enum_text.h"
#include "registry/query_rows.h"

namespace grove::registry {
namespace {

constexpr EnumText<ExpertInit, 3> kInits{
    "expert init", {{{ExpertInit::kBase, "base"}, {ExpertInit::kCopy, "copy"}, {ExpertInit::kRandom, "random"}}}};

constexpr std::string_view kSelect =
    "SELECT id, run_id, layer, slot, group_idx, born_phase_id, parent_expert_id, init, frozen_at_phase_id, rank, "
    "n_params FROM experts ";

ExpertRow read_row(const Statement& s) {
  ExpertRow row;
  row.id = s.get_int64(0);
  row.run_id = s.get_int64(1);
  row.layer = s.get_int64(2);
  row.slot = s.get_int64(3);
  row.group_idx = s.get_int64(4);
  row.born_phase_id = s.get_int64(5);
  row.parent_expert_id = s.get_optional_int64(6);
  row.init = parse_expert_init(s.get_text(7));
  row.frozen_at_phase_id = s.get_optional_int64(8);
  row.rank = s.get_int64(9);
  row.n_params = s.get_optional_int64(10);
  return row;
}

}  // namespace

std::string_view to_text(ExpertInit init) { return kInits.to_text(init); }
ExpertInit parse_expert_init(std::string_view text) { return kInits.from_text(text); }

std::vector<int64_t> insert_experts(Database& db, int64_t run_id, int64_t born_phase_id,
                                    const std::vector<NewExpert>& experts) {
  Savepoint unit(db);
  auto insert = db.prepare(
      "INSERT INTO experts (run_id, layer, slot, group_idx, born_phase_id, parent_expert_id, init, rank, n_params) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  std::vector<int64_t> ids;
  for (const NewExpert& expert : experts) {
    if (find_expert(db, run_id, expert.layer, expert.slot)) {
      throw RegistryError(fmt::format("registry {}: run id {} already has an expert at layer {} slot {}", db.path(),
                                      run_id, expert.layer, expert.slot),
                          ExitCode::kBadInput);
    }
    std::optional<int64_t> parent_id;
    if (expert.parent_slot) {
      const auto parent = find_expert(db, run_id, expert.layer, *expert.parent_slot);
      if (!parent) {
        throw RegistryError(fmt::format("registry {}: expert layer {} slot {} names parent slot {}, which run id {} "
                                        "does not have",
                                        db.path(), expert.layer, expert.slot, *expert.parent_slot, run_id),
                            ExitCode::kBadInput);
      }
      parent_id = parent->id;
    }
    insert
        .bind_all(run_id, expert.layer, expert.slot, expert.group_idx, born_phase_id, parent_id, to_text(expert.init),
                  expert.rank, expert.n_params)
        .run();
    ids.push_back(db.last_insert_rowid());
  }
  unit.release();
  return ids;
}

int64_t freeze_expert_group(Database& db, int64_t run_id, int64_t group_idx, int64_t phase_id) {
  db.prepare(
        "UPDATE experts SET frozen_at_phase_id = ?1 "
        "WHERE run_id = ?2 AND group_idx = ?3 AND frozen_at_phase_id IS NULL")
      .bind_all(phase_id, run_id, group_idx)
      .run();
  return db.changes();
}

int64_t thaw_expert_group(Database& db, int64_t run_id, int64_t group_idx) {
  db.prepare(
        "UPDATE experts SET frozen_at_phase_id = NULL "
        "WHERE run_id = ?1 AND group_idx = ?2 AND frozen_at_phase_id IS NOT NULL")
      .bind_all(run_id, group_idx)
      .run();
  return db.changes();
}

void set_expert_rank(Database& db, int64_t expert_id, int64_t rank) {
  db.prepare("UPDATE experts SET rank = ?1 WHERE id = ?2").bind_all(rank, expert_id).run();
  if (db.changes() == 0) {
    throw RegistryError(fmt::format("registry {}: no expert with id {}", db.path(), expert_id), ExitCode::kBadInput);
  }
}

std::optional<ExpertRow> find_expert(Database& db, int64_t run_id, int64_t layer, int64_t slot) {
  return read_first(
      db.prepare(std::string(kSelect) + "WHERE run_id = ?1 AND layer = ?2 AND slot = ?3").bind_all(run_id, layer, slot),
      read_row);
}

std::optional<ExpertRow> find_expert_by_id(Database& db, int64_t expert_id) {
  return read_first(db.prepare(std::string(kSelect) + "WHERE id = ?1").bind_all(expert_id), read_row);
}

std::vector<ExpertRow> list_experts(Database& db, int64_t run_id, std::optional<int64_t> layer) {
  auto statement =
      db.prepare(std::string(kSelect) + "WHERE run_id = ?1 AND (?2 IS NULL OR layer = ?2) ORDER BY layer, slot");
  statement.bind_all(run_id, layer);
  return read_all(statement, read_row);
}

}  // namespace grove::registry
