// The `routing` table: after a phase, the share of a distribution's tokens that each expert of each layer received
// (top-k assignments, so the fractions of one layer sum to k). Feeds the report's routing heatmaps.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

struct RoutingRow {
  int64_t run_id = 0;
  int64_t after_phase_id = 0;
  int64_t distribution_id = 0;
  int64_t layer = 0;
  int64_t expert_id = 0;
  double token_fraction = 0.0;
};

// Inserts the rows, replacing any with the same key, atomically.
void record_routing(Database& db, const std::vector<RoutingRow>& rows);
// The run's routing rows by phase, distribution, layer, expert; one phase's when `after_phase_id` is given.
std::vector<RoutingRow> list_routing(Database& db, int64_t run_id, std::optional<int64_t> after_phase_id = std::nullopt);

}  // namespace grove::registry
