// Stacked bar charts: one bar per category on the x axis (a phase), split into segments (what its time went to)
// stacked from zero in series order, with the bar's total written above it. Segments are non-negative; a category
// with no values at all is a hatched "n/a" stub, never a zero-height bar. Every segment's value is in its tooltip.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grove::experiments::report {

struct StackedBarChartSpec {
  std::string id;     // unique in the page
  std::string label;  // what the chart shows (screen readers)
  std::string x_label;
  std::string y_label;
  std::vector<std::string> groups;                         // x categories, one bar each
  std::vector<std::string> series;                         // segments, bottom first; legend entries
  std::vector<std::vector<std::optional<double>>> values;  // [series][group]; a group is missing when all are
  std::function<std::string(double)> format;               // totals, tooltips and ticks; default: 3 decimals
  std::string no_data_message = "no values recorded";
  double width = 640;
  double height = 340;
};

// The complete <svg> element. Throws std::invalid_argument when `values` is not series x groups or holds a
// negative value (a caller bug).
std::string render_stacked_bar_chart(const StackedBarChartSpec& spec);

}  // namespace grove::experiments::report
