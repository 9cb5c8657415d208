// The `events` table: a run's notable moments (phase started, growth decided, checkpoint written, resumed,
// interrupted) as short records a user can read back with plain SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "registry/database.h"

namespace grove::registry {

struct NewEvent {
  std::optional<int64_t> run_id;
  std::optional<int64_t> phase_id;
  log::Level level = log::Level::kInfo;
  std::string kind;  // short machine-readable tag: "phase_started", "grew", "resumed", ...
  std::string message;
};

struct EventRow : NewEvent {
  int64_t id = 0;
  std::string at;
};

int64_t record_event(Database& db, const NewEvent& event);
// Events oldest first; only one run's when `run_id` is given.
std::vector<EventRow> list_events(Database& db, std::optional<int64_t> run_id = std::nullopt);

}  // namespace grove::registry
