// The `train_metrics` table: per-step training curves (loss, auxiliary and distillation losses, learning rate,
// gradient norm, throughput) for reports and for spotting divergence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

struct TrainMetricRow {
  int64_t run_id = 0;
  int64_t phase_id = 0;
  int64_t step = 0;
  std::optional<double> loss;
  std::optional<double> aux_loss;
  std::optional<double> kd_loss;
  std::optional<double> lr;
  std::optional<double> grad_norm;
  std::optional<double> tokens_per_s;
  std::string at;  // filled in on insert when empty
};

// Inserts the rows (replacing any with the same run, phase, step) in one transaction: call it per batch of steps.
void record_train_metrics(Database& db, const std::vector<TrainMetricRow>& rows);
// One phase's rows by step.
std::vector<TrainMetricRow> list_train_metrics(Database& db, int64_t phase_id);

}  // namespace grove::registry
