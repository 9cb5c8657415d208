#include "experiments/report/line_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "experiments/report/chart_axes.h"
#include "experiments/report/color_scale.h"
#include "experiments/report/number_format.h"
#include "experiments/report/svg.h"

namespace grove::experiments::report {
namespace {

constexpr size_t kMaxMarkedPoints = 60;

struct Extent {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -std::numeric_limits<double>::infinity();
  double y_lo = std::numeric_limits<double>::infinity(), y_hi = -std::numeric_limits<double>::infinity();
  bool any_y = false;
};

Extent extent_of(const LineChartSpec& spec) {
  Extent e;
  for (const auto& s : spec.series) {
    for (const auto& p : s.points) {
      e.x_lo = std::min(e.x_lo, p.x);
      e.x_hi = std::max(e.x_hi, p.x);
      if (p.y && std::isfinite(*p.y)) {
        e.y_lo = std::min(e.y_lo, *p.y);
        e.y_hi = std::max(e.y_hi, *p.y);
        e.any_y = true;
      }
    }
  }
  for (const auto& c : spec.categories) {
    e.x_lo = std::min(e.x_lo, c.x);
    e.x_hi = std::max(e.x_hi, c.x);
  }
  if (!(e.x_hi > e.x_lo)) {
    e.x_lo = std::isfinite(e.x_lo) ? e.x_lo - 1 : 0;
    e.x_hi = e.x_lo + 2;
  }
  return e;
}

std::string x_text(const LineChartSpec& spec, double x) {
  for (const auto& c : spec.categories) {
    if (c.x == x) return c.label;
  }
  return fmt::format("{} {}", spec.x_label.empty() ? "x" : spec.x_label, Svg::num(x));
}

// Splits a series into runs of consecutive present points (a missing value breaks the line).
std::vector<std::vector<const LinePoint*>> segments(const LineSeries& series) {
  std::vector<std::vector<const LinePoint*>> out(1);
  for (const auto& p : series.points) {
    if (p.y && std::isfinite(*p.y)) {
      out.back().push_back(&p);
    } else if (!out.back().empty()) {
      out.emplace_back();
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

// Long training curves (tens of thousands of steps) keep their shape with a few points per pixel column: per
// bucket of consecutive points, the first, the lowest, the highest and the last, in order.
std::vector<Point> decimate(const std::vector<Point>& points, size_t buckets) {
  if (points.size() <= 4 * buckets) return points;
  std::vector<Point> out;
  const size_t per = (points.size() + buckets - 1) / buckets;
  for (size_t start = 0; start < points.size(); start += per) {
    const size_t end = std::min(points.size(), start + per);
    size_t lo = start, hi = start;
    for (size_t k = start; k < end; ++k) {
      if (points[k].second < points[lo].second) lo = k;
      if (points[k].second > points[hi].second) hi = k;
    }
    for (size_t k : {start, std::min(lo, hi), std::max(lo, hi), end - 1}) {
      if (out.empty() || out.back() != points[k]) out.push_back(points[k]);
    }
  }
  return out;
}

}  // namespace

std::string render_line_chart(const LineChartSpec& spec) {
  const auto format_y = spec.format_y ? spec.format_y : [](double v) { return format_fixed(v, 3); };
  Svg svg(spec.width, spec.height, spec.id, spec.label);

  std::vector<LegendItem> legend;
  for (const auto& s : spec.series) {
    legend.push_back({s.name, series_color(s.color_index), series_dash(s.color_index), true, false});
  }
  bool any_missing = false;
  for (const auto& s : spec.series) {
    for (const auto& p : s.points) any_missing = any_missing || !p.y;
  }
  if (any_missing) legend.push_back({"missing value (n/a)", "", "", false, true});

  const Extent e = extent_of(spec);
  const double legend_h = legend_height(spec.width - 80, legend);
  std::vector<std::string> category_labels;
  for (const auto& c : spec.categories) category_labels.push_back(c.label);
  PlotArea area{72, 14 + legend_h + (spec.boundaries.empty() ? 0 : 16), spec.width - 72 - 24, 0};
  const double slot = category_labels.empty() ? 0 : area.width / static_cast<double>(category_labels.size());
  const double x_axis_h = category_labels.empty() ? 44 : category_axis_height(category_labels, slot) + 24;
  area.height = spec.height - area.top - x_axis_h - 6;
  draw_legend(svg, area.left, 6, spec.width - 80, legend);

  if (!e.any_y) {
    draw_no_data(svg, area, spec.no_data_message);
    return svg.str();
  }
  // Categories sit half a slot in from each edge; numeric axes span the data exactly.
  const double inset = category_labels.empty() ? 0 : slot / 2;
  const LinearScale x{e.x_lo, e.x_hi, area.left + inset, area.right() - inset};
  const std::vector<double> y_ticks = nice_ticks(e.y_lo, e.y_hi, 5);
  const LinearScale y{y_ticks.front(), y_ticks.back(), area.bottom(), area.top};
  const int decimals = tick_decimals(y_ticks);
  draw_y_axis(svg, area, y, y_ticks, [&](double v) { return format_fixed(v, decimals); }, spec.y_label);
  if (category_labels.empty()) {
    const std::vector<double> x_ticks = nice_ticks(e.x_lo, e.x_hi, 6);
    const int x_decimals = tick_decimals(x_ticks);
    draw_x_axis(svg, area, x, x_ticks, [&](double v) { return format_fixed(v, x_decimals); }, spec.x_label);
  } else {
    std::vector<double> positions;
    for (const auto& c : spec.categories) positions.push_back(x(c.x));
    draw_category_axis(svg, area, positions, category_labels, spec.x_label);
  }

  for (const auto& b : spec.boundaries) {
    if (b.x <= e.x_lo || b.x > e.x_hi) continue;  // at or outside the plotted steps: the axis itself marks it
    const double px = x(b.x);
    svg.line(px, area.top - 4, px, area.bottom(), {"none", "#8c959f", 1, "4 3"});
    svg.text(px + 3, area.top - 6, b.label, {10.5, "start", "#57606a"});
  }

  for (const auto& s : spec.series) {
    const std::string color = series_color(s.color_index);
    for (const auto& segment : segments(s)) {
      std::vector<Point> points;
      for (const LinePoint* p : segment) points.emplace_back(x(p->x), y(*p->y));
      if (points.size() > 1) {
        const std::string summary = fmt::format("{}: {} → {}", s.name, format_y(*segment.front()->y),
                                                format_y(*segment.back()->y));
        svg.polyline(decimate(points, static_cast<size_t>(area.width)), {"none", color, 2.2, series_dash(s.color_index)},
                     summary);
      } else if (!spec.markers || s.points.size() > kMaxMarkedPoints) {
        svg.circle(points[0].first, points[0].second, 3, {color, "none"});  // a lone point still shows
      }
    }
    const bool marked = spec.markers && s.points.size() <= kMaxMarkedPoints;
    for (const auto& p : s.points) {
      const std::string tip =
          !p.tooltip.empty() ? p.tooltip
                             : fmt::format("{} — {}: {}", s.name, x_text(spec, p.x), p.y ? format_y(*p.y) : "n/a");
      if (!p.y) {
        // A missing value: an open grey marker on the x axis, so the gap reads as "not measured".
        svg.circle(x(p.x), area.bottom(), 4, {"#ffffff", "#8c959f", 1.2, "2 1.5"}, tip);
      } else if (marked) {
        svg.circle(x(p.x), y(*p.y), 3.8, {color, "#ffffff", 1.2}, tip);
      }
    }
  }
  return svg.str();
}

}  // namespace grove::experiments::report
