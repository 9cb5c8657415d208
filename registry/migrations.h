// The registry schema's versions: ordered migrations keyed by `PRAGMA user_version`, each applied once, in one
// transaction with the version bump, so a registry is always at exactly one known version.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace grove::registry {

class Database;

// The newest schema this binary knows; registries with a larger user_version are refused, never opened.
inline constexpr int kSchemaVersion = 4;
// PRAGMA application_id of every Grove registry: "GROV" in ASCII. Tells a registry from other SQLite files.
inline constexpr uint32_t kApplicationId = 0x47524f56;

struct Migration {
  int version;                   // user_version after this migration
  std::string_view description;  // one line, for logs
  std::string_view sql;          // DDL only, no values
};

// All migrations, oldest first; versions are 1, 2, ... without gaps.
const std::vector<Migration>& migrations();

// The schema version stored in the file (PRAGMA user_version).
int schema_version(Database& db);

// Applies every migration newer than the file's version in one transaction and sets application_id. The caller
// has already refused files that are newer than kSchemaVersion.
void migrate(Database& db);

}  // namespace grove::registry
