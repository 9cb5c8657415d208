// Schema version 4 of the registry (DDL only): which expert group a phase trained (the strategies that freeze older
// experts train one group per phase: a grown phase its new group, a phase without growth the group of the most
// similar earlier distribution) and which tokenizer a phase trained with (vocabulary growth gives a phase a tokenizer
// of its own). Phases recorded before v4 read NULL: the newest group, and the run's tokenizer.
#pragma once

#include <string_view>

namespace grove::registry {

extern const std::string_view kSchemaV4;

}  // namespace grove::registry
