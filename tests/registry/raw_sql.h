// Raw SQL through SQLite's C API, bypassing Grove's registry layer: for tests that must craft files Grove has to
// refuse or migrate (foreign schemas, newer user_version, v1 registries). A failed open or statement fails the test.
#pragma once

#include <filesystem>
#include <string>

namespace grove::testing {

void raw_sql(const std::filesystem::path& path, const std::string& sql);

}  // namespace grove::testing
