// Schema version 3 of the registry (DDL only): where each phase's wall time went (setup, training steps, checkpoint
// stalls, evaluation, other) and the tokens it trained, so goodput can be read per phase. Phases recorded before v3
// have no row.
#pragma once

#include <string_view>

namespace grove::registry {

extern const std::string_view kSchemaV3;

}  // namespace grove::registry
