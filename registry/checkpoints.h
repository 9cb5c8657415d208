// The `checkpoints` table: every checkpoint folder a run wrote, with its size and checksum, so resume can find
// the newest one and verify it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

enum class CheckpointKind { kPeriodic, kPhaseEnd, kInterrupt };
std::string_view to_text(CheckpointKind kind);  // "periodic" | "phase_end" | "interrupt"
CheckpointKind parse_checkpoint_kind(std::string_view text);

struct NewCheckpoint {
  int64_t run_id = 0;
  int64_t phase_id = 0;
  int64_t step = 0;
  std::string path;
  std::optional<int64_t> bytes;
  std::string xxh3;
  CheckpointKind kind = CheckpointKind::kPeriodic;
};

struct CheckpointRow : NewCheckpoint {
  int64_t id = 0;
  std::string created_at;
};

int64_t insert_checkpoint(Database& db, const NewCheckpoint& checkpoint);
// Removes the row of a checkpoint whose folder was pruned.
void delete_checkpoint(Database& db, int64_t checkpoint_id);
// The run's newest checkpoint (highest phase index, then step, then id).
std::optional<CheckpointRow> latest_checkpoint(Database& db, int64_t run_id);
// The run's checkpoints in the order written; only one phase's when `phase_id` is given.
std::vector<CheckpointRow> list_checkpoints(Database& db, int64_t run_id,
                                            std::optional<int64_t> phase_id = std::nullopt);

}  // namespace grove::registry
