#include "registry/registry_file.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/errors.h"
#include "registry/migrations.h"

namespace grove::registry {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kMagic{"SQLite format 3\0", 16};
constexpr size_t kHeaderSize = 100;

uint32_t big_endian_u32(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

}  // namespace

RegistryFileHeader read_registry_file_header(const fs::path& path) {
  RegistryFileHeader header;
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error || !fs::exists(status)) return header;
  if (!fs::is_regular_file(status)) {
    throw RegistryError(fmt::format("registry {}: not a regular file (expected a SQLite database file)", path.string()),
                        ExitCode::kBadInput);
  }
  header.exists = true;
  header.size = fs::file_size(path);
  header.has_wal = fs::exists(fs::path(path.string() + "-wal"), error);
  if (header.size == 0) return header;

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw RegistryError(fmt::format("registry {}: cannot be read: {}", path.string(), std::strerror(errno)));
  }
  std::array<unsigned char, kHeaderSize> bytes{};
  in.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
  const auto got = static_cast<size_t>(in.gcount());
  if (got < kHeaderSize || std::string_view(reinterpret_cast<const char*>(bytes.data()), kMagic.size()) != kMagic) {
    throw RegistryError(fmt::format("registry {}: not a SQLite database (its first bytes are not the SQLite header "
                                    "'SQLite format 3'); expected a Grove registry file",
                                    path.string()),
                        ExitCode::kBadInput);
  }
  header.schema_cookie = big_endian_u32(&bytes[40]);
  header.user_version = big_endian_u32(&bytes[60]);
  header.application_id = big_endian_u32(&bytes[68]);
  return header;
}

void check_registry_identity(const fs::path& path, uint32_t application_id, uint32_t user_version, bool has_tables,
                             bool must_have_schema) {
  if (application_id != kApplicationId && (application_id != 0 || user_version != 0 || has_tables)) {
    throw RegistryError(fmt::format("registry {}: a SQLite database of another application (application_id {:#x}, "
                                    "user_version {}); expected a Grove registry (application_id {:#x})",
                                    path.string(), application_id, user_version, kApplicationId),
                        ExitCode::kBadInput);
  }
  if (user_version > static_cast<uint32_t>(kSchemaVersion)) {
    throw RegistryError(fmt::format("registry {}: schema version {} is newer than this grove understands (up to {}); "
                                    "use a newer grove, the file was left untouched",
                                    path.string(), user_version, kSchemaVersion),
                        ExitCode::kBadInput);
  }
  if (must_have_schema && (application_id != kApplicationId || user_version == 0)) {
    throw RegistryError(fmt::format("registry {}: an empty SQLite database, not a Grove registry yet (no schema); "
                                    "a grove command that writes creates it",
                                    path.string()),
                        ExitCode::kBadInput);
  }
}

}  // namespace grove::registry
