#include "experiments/report/stacked_bar_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "experiments/report/chart_axes.h"
#include "experiments/report/color_scale.h"
#include "experiments/report/number_format.h"
#include "experiments/report/svg.h"

namespace grove::experiments::report {

std::string render_stacked_bar_chart(const StackedBarChartSpec& spec) {
  if (spec.values.size() != spec.series.size()) {
    throw std::invalid_argument("render_stacked_bar_chart: one row per series");
  }
  std::vector<std::optional<double>> totals(spec.groups.size());
  for (const auto& row : spec.values) {
    if (row.size() != spec.groups.size()) throw std::invalid_argument("render_stacked_bar_chart: one value per group");
    for (size_t g = 0; g < row.size(); ++g) {
      if (!row[g] || !std::isfinite(*row[g])) continue;
      if (*row[g] < 0) throw std::invalid_argument("render_stacked_bar_chart: a negative segment");
      totals[g] = totals[g].value_or(0.0) + *row[g];
    }
  }
  const auto format = spec.format ? spec.format : [](double v) { return format_fixed(v, 3); };
  Svg svg(spec.width, spec.height, spec.id, spec.label);

  double hi = 0;
  bool any = false, any_missing = false;
  for (const auto& total : totals) {
    if (total) {
      hi = std::max(hi, *total);
      any = true;
    } else {
      any_missing = true;
    }
  }
  std::vector<LegendItem> legend;
  for (size_t s = 0; s < spec.series.size(); ++s) legend.push_back({spec.series[s], series_color(s), "", false, false});
  if (any_missing) legend.push_back({"not recorded (n/a)", "", "", false, true});
  const PlotArea area = category_plot_area(svg, spec.width, spec.height, spec.groups, legend);
  const double slot = spec.groups.empty() ? area.width : area.width / static_cast<double>(spec.groups.size());
  if (!any) {
    draw_no_data(svg, area, spec.no_data_message);
    return svg.str();
  }

  const std::vector<double> ticks = nice_ticks(0.0, hi > 0 ? hi : 1.0, 5);
  const LinearScale y{ticks.front(), ticks.back(), area.bottom(), area.top};
  draw_y_axis(svg, area, y, ticks, format, spec.y_label);

  const double bar_w = slot * 0.56;
  const double zero = y(0.0);
  std::vector<double> centres;
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const double centre = area.left + slot * (static_cast<double>(g) + 0.5);
    centres.push_back(centre);
    const double bx = centre - bar_w / 2;
    if (!totals[g]) {
      const std::string tip = fmt::format("{}: {}", spec.groups[g], kMissing);
      const double h = std::min(28.0, area.height * 0.25);
      svg.missing_box(bx + 1, zero - h, bar_w - 2, h, tip, "");
      svg.text(centre, zero - h - 4, kMissing, {10, "middle", "#57606a"}, tip);
      continue;
    }
    double base = 0;
    for (size_t s = 0; s < spec.series.size(); ++s) {
      const auto& v = spec.values[s][g];
      if (!v || !std::isfinite(*v) || *v <= 0) continue;
      const double top = y(base + *v);
      const double h = y(base) - top;
      const std::string tip = fmt::format("{} — {}: {} of {}", spec.series[s], spec.groups[g], format(*v),
                                          format(*totals[g]));
      svg.rect(bx + 1, top, bar_w - 2, std::max(h, 0.5), {series_color(s), "none"}, tip);
      base += *v;
    }
    const std::string text = format(*totals[g]);
    svg.text(centre, y(*totals[g]) - 4, text, {10.5, "middle", "#1f2328"},
             fmt::format("{}: {} in all", spec.groups[g], text));
  }
  svg.line(area.left, zero, area.right(), zero, {"none", kAxisColor, 1});
  draw_category_axis(svg, area, centres, spec.groups, spec.x_label);
  return svg.str();
}

}  // namespace grove::experiments::report
