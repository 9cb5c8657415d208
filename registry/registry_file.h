// Looks at a registry file's bytes before SQLite opens it, so that a file Grove must refuse (not SQLite, another
// application's database, a schema newer than this binary) is refused without SQLite writing anything to it or
// creating -wal/-shm files beside it. Reads the 100-byte SQLite header only.
#pragma once

#include <cstdint>
#include <filesystem>

namespace grove::registry {

struct RegistryFileHeader {
  bool exists = false;
  uint64_t size = 0;
  bool has_wal = false;         // a -wal file sits beside it: the header may be older than the committed state
  uint32_t user_version = 0;    // Grove's schema version (0: no schema yet)
  uint32_t application_id = 0;  // kApplicationId for Grove registries
  uint32_t schema_cookie = 0;   // 0: no table was ever created
};

// Reads the header. Throws RegistryError(kBadInput) naming the file when it exists but is not a SQLite database,
// RegistryError(kRuntime) when it cannot be read.
RegistryFileHeader read_registry_file_header(const std::filesystem::path& path);

// Refuses (RegistryError, kBadInput, naming the file and why) a database whose application id or schema version
// Grove cannot use: another application's, one newer than this binary, and one without Grove's schema when
// `must_have_schema` (read-only opens).
void check_registry_identity(const std::filesystem::path& path, uint32_t application_id, uint32_t user_version,
                             bool has_tables, bool must_have_schema);

}  // namespace grove::registry
