// Grouped bar charts: for each category on the x axis (a phase, a distribution), one bar per series (a run, a
// parameter kind). Bars grow from zero, downward for negative values; a missing value is a hatched "n/a" stub,
// never a zero-height bar. Values are written on the bars when there is room and are always in the tooltips.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grove::experiments::report {

struct BarChartSpec {
  std::string id;     // unique in the page
  std::string label;  // what the chart shows (screen readers)
  std::string x_label;
  std::string y_label;
  std::vector<std::string> groups;                           // x categories
  std::vector<std::string> series;                           // bars within a group, legend entries
  std::vector<std::vector<std::optional<double>>> values;    // [series][group]
  std::vector<size_t> color_index;                           // per series; default 0, 1, 2, ...
  std::function<std::string(double)> format;                 // values and ticks; default: 3 decimals
  std::string no_data_message = "no values recorded";
  double width = 640;
  double height = 340;
};

// The complete <svg> element. Throws std::invalid_argument when `values` is not series x groups (a caller bug).
std::string render_bar_chart(const BarChartSpec& spec);

}  // namespace grove::experiments::report
