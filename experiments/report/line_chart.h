// Line charts: one or more series over a numeric x axis (training steps) or over categories (phases). A missing
// y value breaks the line and is marked on the axis as "n/a", never drawn as zero. Points carry hover tooltips.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grove::experiments::report {

struct LinePoint {
  double x = 0;
  std::optional<double> y;
  std::string tooltip;  // empty: "<series>: <x label>: <y>"
};

struct LineSeries {
  std::string name;
  std::vector<LinePoint> points;  // by x
  size_t color_index = 0;         // into series_color() / series_dash()
};

// A labelled x position: categories (phases) or an annotation line (a phase boundary).
struct XLabel {
  double x = 0;
  std::string label;
};

struct LineChartSpec {
  std::string id;     // unique in the page
  std::string label;  // what the chart shows (screen readers)
  std::string x_label;
  std::string y_label;
  std::vector<LineSeries> series;
  std::vector<XLabel> categories;  // non-empty: the x axis shows these labels instead of numeric ticks
  std::vector<XLabel> boundaries;  // dashed vertical lines with a label at the top (phase starts)
  std::function<std::string(double)> format_y;  // ticks and tooltips; default: 3 decimals
  bool markers = true;             // dots on points (dropped automatically above 60 points per series)
  std::string no_data_message = "no values recorded";
  double width = 640;
  double height = 340;
};

// The complete <svg> element.
std::string render_line_chart(const LineChartSpec& spec);

}  // namespace grove::experiments::report
