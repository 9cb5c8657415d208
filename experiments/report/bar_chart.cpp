#include "experiments/report/bar_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "experiments/report/chart_axes.h"
#include "experiments/report/color_scale.h"
#include "experiments/report/number_format.h"
#include "experiments/report/svg.h"

namespace grove::experiments::report {

std::string render_bar_chart(const BarChartSpec& spec) {
  if (spec.values.size() != spec.series.size()) throw std::invalid_argument("render_bar_chart: one row per series");
  for (const auto& row : spec.values) {
    if (row.size() != spec.groups.size()) throw std::invalid_argument("render_bar_chart: one value per group");
  }
  const auto format = spec.format ? spec.format : [](double v) { return format_fixed(v, 3); };
  auto color_of = [&](size_t s) { return series_color(s < spec.color_index.size() ? spec.color_index[s] : s); };
  Svg svg(spec.width, spec.height, spec.id, spec.label);

  double lo = 0, hi = 0;
  bool any = false, any_missing = false;
  for (const auto& row : spec.values) {
    for (const auto& v : row) {
      if (v && std::isfinite(*v)) {
        lo = std::min(lo, *v);
        hi = std::max(hi, *v);
        any = true;
      } else {
        any_missing = true;
      }
    }
  }
  std::vector<LegendItem> legend;
  for (size_t s = 0; s < spec.series.size(); ++s) legend.push_back({spec.series[s], color_of(s), "", false, false});
  if (any_missing) legend.push_back({"missing value (n/a)", "", "", false, true});
  const PlotArea area = category_plot_area(svg, spec.width, spec.height, spec.groups, legend);
  const double slot = spec.groups.empty() ? area.width : area.width / static_cast<double>(spec.groups.size());
  if (!any) {
    draw_no_data(svg, area, spec.no_data_message);
    return svg.str();
  }

  const std::vector<double> ticks = nice_ticks(lo, hi == lo ? lo + 1 : hi, 5);
  const LinearScale y{ticks.front(), ticks.back(), area.bottom(), area.top};
  draw_y_axis(svg, area, y, ticks, format, spec.y_label);

  const double group_pad = slot * 0.18;
  const double bar_w = (slot - 2 * group_pad) / static_cast<double>(std::max<size_t>(1, spec.series.size()));
  const double zero = y(0.0);
  std::vector<double> centres;
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const double gx = area.left + slot * static_cast<double>(g);
    centres.push_back(gx + slot / 2);
    for (size_t s = 0; s < spec.series.size(); ++s) {
      const double bx = gx + group_pad + bar_w * static_cast<double>(s);
      const auto& v = spec.values[s][g];
      const std::string tip =
          fmt::format("{} — {}: {}", spec.series[s], spec.groups[g], v ? format(*v) : std::string(kMissing));
      if (!v || !std::isfinite(*v)) {
        const double h = std::min(28.0, area.height * 0.25);
        svg.missing_box(bx + 1, zero - h, bar_w - 2, h, tip, "");
        svg.text(bx + bar_w / 2, zero - h - 4, kMissing, {10, "middle", "#57606a"}, tip);
        continue;
      }
      const double top = std::min(zero, y(*v));
      const double h = std::max(std::fabs(y(*v) - zero), 1.0);
      svg.rect(bx + 1, top, bar_w - 2, h, {color_of(s), "none"}, tip);
      const std::string text = format(*v);
      const double size = 10.5;
      if (estimate_text_width(text, size) <= bar_w + 1) {
        // Above a positive bar, below a negative one; inside it (light text) when that would cross the axis.
        const bool inside = *v < 0 && top + h + size + 1 > area.bottom() - 2 && h > size + 4;
        const double ty = *v >= 0 ? top - 4 : inside ? top + h - 4 : top + h + size + 1;
        svg.text(bx + bar_w / 2, ty, text, {size, "middle", inside ? text_color_on(parse_hex(color_of(s))) : "#1f2328"},
                 tip);
      }
    }
  }
  svg.line(area.left, zero, area.right(), zero, {"none", kAxisColor, 1});
  draw_category_axis(svg, area, centres, spec.groups, spec.x_label);
  return svg.str();
}

}  // namespace grove::experiments::report
