// The `phases` table and its state machine. A phase trains one distribution within a run and moves
//   pending -> training -> evaluating -> done,   training|evaluating -> interrupted|failed,   interrupted -> training
// Transitions go through transition_phase(), which checks the current state inside a transaction; any other move
// throws naming both states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

enum class PhaseStatus { kPending, kTraining, kEvaluating, kDone, kInterrupted, kFailed };
std::string_view to_text(PhaseStatus status);
PhaseStatus parse_phase_status(std::string_view text);

// The growth policy's verdict for the phase: the base phase, grow new experts, or train without growing.
enum class GrowthDecision { kBase, kGrow, kNoGrow };
std::string_view to_text(GrowthDecision decision);  // "base" | "grow" | "no_grow"
GrowthDecision parse_growth_decision(std::string_view text);

// Whether the state machine allows `from` -> `to`.
bool is_legal_transition(PhaseStatus from, PhaseStatus to);

struct NewPhase {
  int64_t run_id = 0;
  int64_t idx = 0;  // 0 for the base phase, then 1, 2, ...
  int64_t distribution_id = 0;
  int64_t steps_total = 0;
  std::optional<GrowthDecision> decision;  // may be set later with set_phase_decision
  std::optional<std::string> decision_reason;
  int64_t experts_added = 0;
};

struct PhaseRow : NewPhase {
  int64_t id = 0;
  PhaseStatus status = PhaseStatus::kPending;
  int64_t steps_done = 0;
  std::optional<std::string> started_at;   // first entry into training
  std::optional<std::string> finished_at;  // entry into done or failed
  std::optional<int64_t> params_total;     // schema v2: all parameters at the end of the phase (phase_parameters.h)
  std::optional<int64_t> params_active;    // schema v2: parameters one token uses
  std::optional<int64_t> trained_group;    // schema v4: the one expert group that trained; null: all, or unrecorded
  std::optional<int64_t> tokenizer_id;     // schema v4: the phase's own tokenizer; null: the run's
};

// Inserts a pending phase. A duplicate (run, idx) is bad input naming both.
int64_t create_phase(Database& db, const NewPhase& phase);
// Moves a phase to `to` if the state machine allows it from its current status; otherwise RegistryError
// (kRuntime: a caller bug) naming the phase and both states. Stamps started_at / finished_at.
void transition_phase(Database& db, int64_t phase_id, PhaseStatus to);
void set_phase_decision(Database& db, int64_t phase_id, GrowthDecision decision, std::string_view reason,
                        int64_t experts_added);
// The expert group the phase trains (null: every group); the tokenizer it trains with (null: the run's).
void set_phase_trained_group(Database& db, int64_t phase_id, std::optional<int64_t> group);
void set_phase_tokenizer(Database& db, int64_t phase_id, std::optional<int64_t> tokenizer_id);
// Records training progress (steps done so far, at most steps_total).
void set_phase_progress(Database& db, int64_t phase_id, int64_t steps_done);

std::optional<PhaseRow> find_phase(Database& db, int64_t run_id, int64_t idx);
std::optional<PhaseRow> find_phase_by_id(Database& db, int64_t phase_id);
std::vector<PhaseRow> list_phases(Database& db, int64_t run_id);  // by idx
// The highest-index phase that can still make progress (pending, training, evaluating or interrupted), if any.
std::optional<PhaseRow> newest_unfinished_phase(Database& db, int64_t run_id);

}  // namespace grove::registry
