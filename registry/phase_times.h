// Where a phase's wall time went (schema v3): setup (phase start to the end of its first step), the training steps,
// checkpoint stalls of the training thread, evaluation and everything else, plus the tokens it trained. A phase
// interrupted and resumed adds each stretch to what was recorded before, so the row covers all of its attempts.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

struct PhaseTimes {
  double setup_s = 0;
  double training_s = 0;
  double checkpoint_s = 0;
  double eval_s = 0;
  double other_s = 0;
  int64_t train_tokens = 0;

  double wall_s() const { return setup_s + training_s + checkpoint_s + eval_s + other_s; }
  // Training tokens per second of wall time; nothing while no time is recorded.
  std::optional<double> goodput() const;
};

// Adds `stretch`'s seconds to the phase's row (creating it) and raises its train_tokens to stretch.train_tokens
// when larger. Bad input (RegistryError, exit 2) naming the phase: an unknown phase id, a negative or non-finite
// number.
void add_phase_times(Database& db, int64_t phase_id, const PhaseTimes& stretch);

// The phase's row, or nothing when none was recorded (a phase not started, or recorded before schema v3).
std::optional<PhaseTimes> find_phase_times(Database& db, int64_t phase_id);

}  // namespace grove::registry
