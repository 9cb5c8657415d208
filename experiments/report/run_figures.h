// The figures of one run's section: the forgetting matrix and its change since each distribution was trained,
// bits per byte across phases, expert utilisation per layer, the lineage tree, parameters per phase and the
// training curves. Each function takes the run's data and an id prefix unique in the page.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/figure.h"
#include "experiments/report/run_data.h"

namespace grove::experiments::report {

// R as a heatmap (rows: the untrained model, then after each phase; columns: distributions), values in cells,
// the just-trained cells R[j][j] outlined.
Figure forgetting_matrix_figure(const RunData& run, const std::string& prefix);
// R[i][j] - R[j][j] for i >= j on a diverging scale: red where a distribution got worse after its own phase.
Figure forgetting_change_figure(const RunData& run, const std::string& prefix);
// One line per distribution: its bits per byte on the untrained model and after each phase.
Figure bpb_across_phases_figure(const RunData& run, const std::string& prefix);
// One heatmap per MoE layer from the routing rows of the last phase that has any (none when there are none).
std::vector<Figure> routing_figures(const RunData& run, const std::string& prefix);
// One lineage chart per group of layers with identical lineage (none when the run has no experts).
std::vector<Figure> lineage_figures(const RunData& run, const std::string& prefix);
// Total and active parameters per phase, as grouped bars.
Figure parameters_figure(const RunData& run, const std::string& prefix);
// Where each phase's wall time went (setup, training, checkpoint stalls, evaluation, other), one stacked bar per
// phase, with the goodput in the caption.
Figure time_split_figure(const RunData& run, const std::string& prefix);
// Loss per step for every phase on one step axis; KD and auxiliary losses in their own charts when recorded.
std::vector<Figure> training_figures(const RunData& run, const std::string& prefix);

// "after phase 2 · py", the row label of the matrix; "untrained" for the init row.
std::string matrix_row_label(const RunData& run, size_t row);

}  // namespace grove::experiments::report
