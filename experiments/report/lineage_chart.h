// The expert lineage of one MoE layer as a chart: one row per expert (parents above their children), one column
// per phase. Each expert's life line starts at the phase that created it (a dot coloured by its init: base, copy
// or random), is drawn solid in the phases in which the expert trains and grey in those in which it is frozen (the
// phases' recorded trained group says which: a phase without growth may train an older group again), and a curve
// joins a copied expert to its parent. Every row has a tooltip with the full record.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/run_data.h"

namespace grove::experiments::report {

// The chart for `layer` of `run`, or "" when the layer has no experts. `id` must be unique in the page.
std::string render_lineage_chart(const RunData& run, int64_t layer, const std::string& id,
                                 const std::string& layers_label);

// Layers whose lineage is identical (same slots, parents, born and frozen phases, inits) grouped together, so a
// 12-layer model whose layers grew alike shows one chart instead of twelve. Each entry lists its layers.
std::vector<std::vector<int64_t>> layers_with_identical_lineage(const RunData& run);

// "layer 3", "layers 0–11" or "layers 0, 2, 5".
std::string layers_text(const std::vector<int64_t>& layers);

}  // namespace grove::experiments::report
