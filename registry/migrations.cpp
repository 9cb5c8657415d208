#include "registry/migrations.h"

#include <fmt/format.h>

#include "common/log.h"
#include "registry/database.h"
#include "registry/schema_v1.h"
#include "registry/schema_v2.h"
#include "registry/schema_v3.h"
#include "registry/schema_v4.h"

namespace grove::registry {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      {1, "schema v1: runs, tokenizers, distributions, shards, phases, experts, checkpoints, evals, routing, "
          "train_metrics, events",
       kSchemaV1},
      {2, "schema v2: phases.params_total and phases.params_active (parameters per phase)", kSchemaV2},
      {3, "schema v3: phase_times (where each phase's wall time went, and its training tokens)", kSchemaV3},
      {4, "schema v4: phases.trained_group and phases.tokenizer_id", kSchemaV4},
  };
  return all;
}

int schema_version(Database& db) {
  auto statement = db.prepare("PRAGMA user_version");
  return statement.step() ? static_cast<int>(statement.get_int64(0)) : 0;
}

void migrate(Database& db) {
  Transaction transaction(db);
  const int from = schema_version(db);
  if (from >= kSchemaVersion) return;  // nothing to do; the transaction rolls back without having written
  for (const Migration& migration : migrations()) {
    if (migration.version <= from) continue;
    log::debug("registry {}: migrating to schema v{} ({})", db.path(), migration.version, migration.description);
    db.execute(migration.sql);
  }
  // PRAGMA arguments cannot be bound; both values are compile-time integers, never user input.
  db.execute(fmt::format("PRAGMA application_id = {}", kApplicationId));
  db.execute(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  transaction.commit();
  log::debug("registry {}: at schema v{}", db.path(), kSchemaVersion);
}

}  // namespace grove::registry
