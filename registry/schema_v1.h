// Schema version 1 of the registry (DDL only): tables, indexes and views as documented in docs/REGISTRY.md.
#pragma once

#include <string_view>

namespace grove::registry {

extern const std::string_view kSchemaV1;

}  // namespace grove::registry
