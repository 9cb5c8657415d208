// Schema version 2 of the registry (DDL only): per-phase parameter counts, so reports can show total versus active
// parameters as experts are added. Both columns are NULL for phases recorded before v2 or not yet measured.
#pragma once

#include <string_view>

namespace grove::registry {

extern const std::string_view kSchemaV2;

}  // namespace grove::registry
