// UTC timestamps in ISO-8601, the one time format Grove stores and prints.
#pragma once

#include <string>

namespace grove {

// "2026-11-29T08:30:00Z" (seconds precision): the registry's timestamp format.
std::string utc_now_iso8601();
// "2026-11-29T08:30:00.123Z" (milliseconds): log records.
std::string utc_now_iso8601_millis();

}  // namespace grove
