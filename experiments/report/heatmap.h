// Heatmaps with the value written in each cell (when it fits; always in the cell's tooltip), a colour bar, and
// columns optionally grouped under labels (experts by the phase that added them). Missing cells are hatched grey
// with "n/a", never coloured as zero. Used for the forgetting matrix and for expert utilisation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments/report/color_scale.h"

namespace grove::experiments::report {

struct ColumnGroup {
  std::string label;
  size_t count = 0;  // consecutive columns, in order
};

struct HeatmapSpec {
  std::string id;     // unique in the page
  std::string label;  // what the chart shows (screen readers)
  std::vector<std::string> row_labels;
  std::vector<std::string> col_labels;
  std::vector<ColumnGroup> column_groups;  // empty, or counts summing to the number of columns
  std::string row_title;                   // what the rows are ("after phase")
  std::string col_title;                   // what the columns are ("evaluated on")
  std::vector<std::vector<std::optional<double>>> values;  // [row][column]
  ScaleKind scale = ScaleKind::kViridis;
  bool reversed = false;          // true: high values dark
  std::optional<double> lo, hi;   // colour range; default: the data's
  std::string legend_label;       // the colour bar's title
  std::function<std::string(double)> format;                // cell text; default: 3 decimals
  std::function<std::string(size_t, size_t)> tooltip;       // default: "row — column: value"
  std::function<bool(size_t, size_t)> highlight;            // cells drawn with a dark outline (caption explains)
  double max_width = 900;
  double cell_height = 30;
};

// The complete <svg> element. Throws std::invalid_argument on a shape mismatch (a caller bug).
std::string render_heatmap(const HeatmapSpec& spec);

}  // namespace grove::experiments::report
