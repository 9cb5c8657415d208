// The report's tables as plain text cells, shared by report.md and report.html so both say the same thing:
// metrics with per-distribution terms, the forgetting matrix, growth decisions, parameters, lineage, routing and
// training summaries, and the cross-run comparison. Renderers escape the cells; builders never do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/report/across_seeds.h"
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
// "growth always · old experts frozen · gate: new rows train · shared weights train · KD off · replay 25 % of each
// batch". Empty when the stored configuration has no strategy section (runs written by other tools).
std::string strategy_settings(const RunData& run);
TextTable decisions_table(const RunData& run);
// Total and active parameters per phase, and the experts alive per layer.
TextTable parameters_table(const RunData& run);
// Where each phase's wall time went (seconds: setup, training, checkpoint stalls, evaluation, other), its training
// tokens and goodput (tokens per second of wall time); n/a for a phase without times.
TextTable time_table(const RunData& run);
// Layer, expert, group, born phase, init, parent, frozen at, parameters.
TextTable lineage_table(const RunData& run);
// Per layer and distribution: the experts receiving the most tokens (top 3) and the share on its own phase's
// experts (as routing_specialisation).
TextTable routing_table(const RunData& run);

// Routing specialisation: per MoE layer and distribution, the share of the distribution's (token, k) assignments in
// the run's routing rows (those of run.routing_phase) that land on the experts grown for it — born in the phase that
// introduced it, the base group for the first phase's distribution. The shares of a (layer, distribution) are
// divided by their sum, so 1.0 means only its own experts whatever k is.
struct RoutingSpecialisation {
  std::vector<std::string> distributions;  // columns: the run's distributions in the order phases introduced them
  std::vector<int64_t> distribution_ids;   // their registry ids
  std::vector<bool> no_growth;             // per distribution: its phase decided no_grow, so it has no own experts
  std::vector<int64_t> layers;             // rows: the layers with routing rows, ascending; empty without routing
  std::vector<std::vector<std::optional<double>>> share;  // [layer][distribution]; nullopt: no growth, or not
                                                          // recorded (no routing rows, or its phase is later than
                                                          // the routing rows' or grew no experts in the layer)
};
RoutingSpecialisation routing_specialisation(const RunData& run);
// What a specialisation cell says: the share ("0.750"), "no growth", or "n/a".
inline constexpr const char* kNoGrowth = "no growth";
std::string specialisation_cell(const RoutingSpecialisation& spec, size_t layer_row, size_t distribution);
// Layer, then one column per distribution.
TextTable routing_specialisation_table(const RoutingSpecialisation& spec);
// The sentence before the table: which phase's routing it reads and what the number means (plain text).
std::string routing_specialisation_intro(const RunData& run);
// Per phase: steps recorded, first and last loss, last KD and aux loss.
TextTable training_table(const RunData& run);
// One row per run: strategy, status, phases, ACC, BWT, FWT, forgetting, max-forgetting, new-distribution bpb.
TextTable comparison_table(const std::vector<RunData>& runs);
// One row per group of runs that differ only by seed: seeds, then ACC, mean forgetting, BWT, FWT and
// new-distribution bpb as "mean ± sample standard deviation" over the seeds.
TextTable across_seeds_table(const AcrossSeeds& across);
// What the "Across seeds" section says before its table.
inline constexpr const char* kAcrossSeedsIntro =
    "Runs that differ only by seed (the same stored configuration apart from the seed: one experiment, one "
    "strategy) form a group; each value is the mean ± the sample standard deviation over the group's seeds.";
// One sentence per pair of groups and metric (ACC, forgetting): the means, their difference, the seed spread and
// the verdict of the rule in seed_statistics.h.
std::vector<std::string> across_seeds_verdicts(const AcrossSeeds& across);

}  // namespace grove::experiments::report
