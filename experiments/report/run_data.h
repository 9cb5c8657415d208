// Everything the report shows about one run, read from the registry through its typed API in one go: phases with
// their distributions and growth decisions, the forgetting matrix and metrics, evaluations, experts and lineage,
// the routing rows of the last phase that has any, training curves and events. Plain data: the renderers
// (Markdown, HTML, JSON, CSV) never touch the database.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"
#include "registry/evals.h"
#include "registry/events.h"
#include "registry/experts.h"
#include "registry/forgetting_metrics.h"
#include "registry/lineage.h"
#include "registry/phase_times.h"
#include "registry/phases.h"
#include "registry/routing.h"
#include "registry/runs.h"
#include "registry/train_metrics.h"

namespace grove::experiments::report {

struct PhaseData {
  registry::PhaseRow row;
  std::string distribution;                        // the name of the distribution it trained on
  std::vector<registry::TrainMetricRow> training;  // by step
  std::optional<registry::PhaseTimes> times;       // where its wall time went; none before schema v3
};

struct RunData {
  registry::RunRow run;
  std::vector<PhaseData> phases;  // by index
  registry::EvalMatrix matrix;    // holdout bits per byte
  registry::ForgettingMetrics metrics;
  std::vector<registry::EvalView> evals;
  std::vector<registry::ExpertRow> experts;                           // by layer, slot
  std::map<int64_t, std::vector<registry::LineageNode>> forest;      // per layer: roots with their descendants
  std::optional<size_t> routing_phase;                                // phases[] index the routing rows belong to
  std::vector<registry::RoutingRow> routing;                          // that phase's rows
  std::vector<registry::EventRow> events;
  std::map<int64_t, std::string> distribution_names;                  // id -> name, for every id referenced

  // The index (phases[] position) of a phase id; nullopt for an id of another run.
  std::optional<size_t> phase_position(int64_t phase_id) const;
  // "phase 2 · py" (or "phase 2" when the phase is unknown).
  std::string phase_label(size_t position) const;
  std::string phase_label_of(std::optional<int64_t> phase_id) const;
};

// Loads the run named `name`. A name no run has is RegistryError(kBadInput) naming it and the runs that exist.
RunData load_run_data(registry::Database& db, std::string_view name);

// R[j][j] for each column j >= 1: a distribution's bits per byte right after the phase that introduced it
// (index 0 is always empty), and their mean over the present ones.
struct NewDistributionBpb {
  std::vector<registry::Cell> terms;
  std::optional<double> mean;
};
NewDistributionBpb new_distribution_bpb(const registry::EvalMatrix& matrix);

}  // namespace grove::experiments::report
