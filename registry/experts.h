// The `experts` table: every expert of every MoE layer of a run, with the phase that created it, the expert it was
// copied from (its parent), the phase since which it is frozen and its expert-parallel rank.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

enum class ExpertInit { kBase, kCopy, kRandom };
std::string_view to_text(ExpertInit init);  // "base" | "copy" | "random"
ExpertInit parse_expert_init(std::string_view text);

// One expert as growth reports it: its position, its group, and for `copy` the slot it was copied from.
struct NewExpert {
  int64_t layer = 0;
  int64_t slot = 0;
  int64_t group_idx = 0;
  ExpertInit init = ExpertInit::kBase;
  std::optional<int64_t> parent_slot;  // a slot of the same layer in the same run, already recorded
  int64_t rank = 0;
  std::optional<int64_t> n_params;
};

struct ExpertRow {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t layer = 0;
  int64_t slot = 0;
  int64_t group_idx = 0;
  int64_t born_phase_id = 0;
  std::optional<int64_t> parent_expert_id;
  ExpertInit init = ExpertInit::kBase;
  std::optional<int64_t> frozen_at_phase_id;
  int64_t rank = 0;
  std::optional<int64_t> n_params;
};

// Records a batch of experts born in `born_phase_id`, atomically; returns their ids in order. Parents may be in
// the same batch (earlier) or recorded before. A parent slot that does not exist, or a taken slot, is bad input.
std::vector<int64_t> insert_experts(Database& db, int64_t run_id, int64_t born_phase_id,
                                    const std::vector<NewExpert>& experts);
// Marks every not-yet-frozen expert of `group_idx` in the run as frozen at `phase_id`; returns how many.
// frozen_at_phase_id means "frozen since": a frozen group that trains again is thawed, and frozen anew (by a later
// phase) when it stops; phases.trained_group keeps which group each phase trained.
int64_t freeze_expert_group(Database& db, int64_t run_id, int64_t group_idx, int64_t phase_id);
// Marks every frozen expert of `group_idx` in the run as not frozen (frozen_at_phase_id NULL): the group trains
// again, in a phase without growth that chose it. Returns how many.
int64_t thaw_expert_group(Database& db, int64_t run_id, int64_t group_idx);
// Records a new expert-parallel placement.
void set_expert_rank(Database& db, int64_t expert_id, int64_t rank);

std::optional<ExpertRow> find_expert(Database& db, int64_t run_id, int64_t layer, int64_t slot);
std::optional<ExpertRow> find_expert_by_id(Database& db, int64_t expert_id);
// The run's experts by layer then slot; only one layer when `layer` is given.
std::vector<ExpertRow> list_experts(Database& db, int64_t run_id, std::optional<int64_t> layer = std::nullopt);

}  // namespace grove::registry
