// The report's tables as plain text cells, shared by report.md and report.html so both say the same thing:
// metrics with per-distribution terms, the forgetting matrix, growth decisions, parameters, lineage, routing and
// training summaries, and the cross-run comparison. Renderers escape the cells; builders never do.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/run_data.h"

namespace grove::experiments::report {

struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> numeric;           // per column: right-aligned
  std::vector<std::string> row_links;  // per row: a metric key ("acc", ...) whose definition the first cell links
};

// One metric's definition as docs/METRICS.md writes it.
struct MetricDefinition {
  std::string key;      // "acc", "bwt", "fwt", "forgetting", "max_forgetting", "new_bpb"
  std::string name;     // "ACC"
  std::string formula;  // "mean over j ≤ T of R[T][j]"
  std::string meaning;  // one sentence, with the sign convention
};
const std::vector<MetricDefinition>& metric_definitions();

// ACC, BWT, FWT, mean forgetting, mean max-forgetting, new-distribution bpb: value, per-distribution terms,
// terms used and missing.
TextTable metrics_table(const RunData& run);
// The forgetting matrix with the untrained row first.
TextTable matrix_table(const RunData& run);
// Phase, distribution, status, steps, decision, experts added, reason.
// The strategy as the run actually trained, from the resolved configuration it stored (runs.config_yaml), e.g.
// "growth novelty · old experts frozen · gate: new rows train · shared weights train · KD off · replay 25 % of each
// batch". Empty when the stored configuration has no strategy section (runs written by other tools).
std::string strategy_settings(const RunData& run);
TextTable decisions_table(const RunData& run);
// Total and active parameters per phase, and the experts alive per layer.
TextTable parameters_table(const RunData& run);
// Layer, expert, group, born phase, init, parent, frozen at, parameters.
TextTable lineage_table(const RunData& run);
// Per layer and distribution: the experts receiving the most tokens (top 3) and the share on the newest group.
TextTable routing_table(const RunData& run);
// Per phase: steps recorded, first and last loss, last KD and aux loss.
TextTable training_table(const RunData& run);
// One row per run: strategy, status, phases, ACC, BWT, FWT, forgetting, max-forgetting, new-distribution bpb.
TextTable comparison_table(const std::vector<RunData>& runs);

}  // namespace grove::experiments::report
