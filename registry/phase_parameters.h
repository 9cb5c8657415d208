// Per-phase parameter counts (schema v2): the model's total parameters at the end of a phase and the parameters one
// token activates. The orchestrator records them; reports plot total versus active per phase.
#pragma once

#include <cstdint>

#include "registry/database.h"

namespace grove::registry {

// Sets phases.params_total and params_active. Bad input (RegistryError, exit 2) naming the phase: an unknown
// phase id, a negative count, or active > total.
void set_phase_parameters(Database& db, int64_t phase_id, int64_t params_total, int64_t params_active);

}  // namespace grove::registry
