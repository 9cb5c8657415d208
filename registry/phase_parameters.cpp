#include "registry/phase_parameters.h"

#include <fmt/format.h>

#include "common/errors.h"

namespace grove::registry {

void set_phase_parameters(Database& db, int64_t phase_id, int64_t params_total, int64_t params_active) {
  if (params_total < 0 || params_active < 0 || params_active > params_total) {
    throw RegistryError(fmt::format("registry {}: phase id {}: parameter counts total {} and active {} must be "
                                    "non-negative with active <= total",
                                    db.path(), phase_id, params_total, params_active),
                        ExitCode::kBadInput);
  }
  Savepoint unit(db);
  db.prepare("UPDATE phases SET params_total = ?1, params_active = ?2 WHERE id = ?3")
      .bind_all(params_total, params_active, phase_id)
      .run();
  if (db.changes() == 0) {
    throw RegistryError(fmt::format("registry {}: no phase with id {}", db.path(), phase_id), ExitCode::kBadInput);
  }
  unit.release();
}

}  // namespace grove::registry
