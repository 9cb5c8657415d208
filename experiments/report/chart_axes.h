// The parts every chart shares: a linear scale, the plot area, a value axis with ticks, labels and grid lines,
// x axes (numeric ticks or category labels that tilt when crowded), a wrapping legend, and the "no data"
// placeholder drawn when a chart has nothing to show (a chart is never silently empty).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiments/report/svg.h"

namespace grove::experiments::report {

// Maps the domain [d0, d1] linearly onto the range [r0, r1] (pixels; r1 < r0 for a y axis that grows upward).
struct LinearScale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double value) const { return r0 + (value - d0) / (d1 - d0) * (r1 - r0); }
};

struct PlotArea {
  double left = 0, top = 0, width = 0, height = 0;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

inline constexpr double kAxisFont = 12.0;
inline constexpr double kLabelFont = 13.0;
inline constexpr const char* kAxisColor = "#57606a";
inline constexpr const char* kGridColor = "#e3e6ea";

// Left axis: ticks with labels formatted by `format`, light grid lines across the area, the label rotated.
void draw_y_axis(Svg& svg, const PlotArea& area, const LinearScale& y, const std::vector<double>& ticks,
                 const std::function<std::string(double)>& format, const std::string& label);

// Bottom axis with numeric ticks.
void draw_x_axis(Svg& svg, const PlotArea& area, const LinearScale& x, const std::vector<double>& ticks,
                 const std::function<std::string(double)>& format, const std::string& label);

// Bottom axis with one label per category centred at `positions`; labels tilt 30 degrees when they would
// overlap, and are shortened (full text on hover) when still too long. Returns the height the labels used.
double draw_category_axis(Svg& svg, const PlotArea& area, const std::vector<double>& positions,
                          const std::vector<std::string>& labels, const std::string& label);

// Height category labels need below the plot area (to size a chart before drawing it).
double category_axis_height(const std::vector<std::string>& labels, double slot_width);

struct LegendItem {
  std::string label;
  std::string color;
  std::string dash;       // for line items
  bool line = true;       // a line sample (series) or a filled swatch (bars)
  bool hatched = false;   // the swatch shows the missing-value hatch
};

// Items left to right, wrapping at `max_width`; returns the height used.
double draw_legend(Svg& svg, double x, double y, double max_width, const std::vector<LegendItem>& items);
// The height draw_legend will use, without drawing.
double legend_height(double max_width, const std::vector<LegendItem>& items);

// The plot area of a chart with one slot per category on its x axis (bar charts): under the legend, which it draws,
// and above room for the category labels.
PlotArea category_plot_area(Svg& svg, double width, double height, const std::vector<std::string>& groups,
                            const std::vector<LegendItem>& legend);

// A hatched plot area with a centred message: what a chart draws when none of its values exist.
void draw_no_data(Svg& svg, const PlotArea& area, const std::string& message);

}  // namespace grove::experiments::report
