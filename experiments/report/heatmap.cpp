#include "experiments/report/heatmap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "experiments/report/chart_axes.h"
#include "experiments/report/number_format.h"
#include "experiments/report/svg.h"
#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace {

constexpr double kCellFont = 11.0;
constexpr double kLegendWidth = 96;
constexpr size_t kMaxLabelChars = 28;
constexpr double kSlant = 45.0;

void check_shape(const HeatmapSpec& spec) {
  bool ok = spec.values.size() == spec.row_labels.size();
  for (const auto& row : spec.values) ok = ok && row.size() == spec.col_labels.size();
  size_t grouped = 0;
  for (const auto& g : spec.column_groups) grouped += g.count;
  ok = ok && (spec.column_groups.empty() || grouped == spec.col_labels.size());
  if (!ok) throw std::invalid_argument("render_heatmap: values must be rows x columns and groups must cover columns");
}

double widest(const std::vector<std::string>& labels, double size) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, estimate_text_width(ellipsize(l, kMaxLabelChars), size));
  return w;
}

void draw_color_bar(Svg& svg, const ColorScale& scale, double x, double y, double h, const std::string& title,
                    bool any_missing) {
  constexpr int kSteps = 48;
  const double step_h = h / kSteps;
  for (int i = 0; i < kSteps; ++i) {  // top = high end
    const double t = 1.0 - (i + 0.5) / kSteps;
    svg.rect(x, y + i * step_h, 14, step_h + 0.6, {to_hex(scale.at_fraction(t)), "none"});
  }
  svg.rect(x, y, 14, h, {"none", "#8c959f", 0.8});
  const std::vector<double> ticks = nice_ticks(scale.lo(), scale.hi(), 4);
  const int decimals = tick_decimals(ticks);
  for (double t : ticks) {
    if (t < scale.lo() - 1e-12 || t > scale.hi() + 1e-12) continue;
    const double ty = y + h * (1.0 - (t - scale.lo()) / (scale.hi() - scale.lo()));
    svg.line(x + 14, ty, x + 18, ty, {"none", kAxisColor, 1});
    svg.text(x + 21, ty, format_fixed(t, decimals), {10.5, "start", kAxisColor, "", 0.0, true});
  }
  svg.text(x + kLegendWidth - 10, y + h / 2, title, {11.5, "middle", "#1f2328", "", -90.0, true});
  if (any_missing) {
    svg.missing_box(x, y + h + 10, 14, 14, "missing value", "");
    svg.text(x + 20, y + h + 17, "n/a", {10.5, "start", kAxisColor, "", 0.0, true});
  }
}

}  // namespace

std::string render_heatmap(const HeatmapSpec& spec) {
  check_shape(spec);
  const auto format = spec.format ? spec.format : [](double v) { return format_fixed(v, 3); };
  const size_t rows = spec.row_labels.size();
  const size_t cols = spec.col_labels.size();

  double lo = spec.lo.value_or(INFINITY), hi = spec.hi.value_or(-INFINITY);
  bool any_missing = false;
  for (const auto& row : spec.values) {
    for (const auto& v : row) {
      if (v && std::isfinite(*v)) {
        if (!spec.lo) lo = std::min(lo, *v);
        if (!spec.hi) hi = std::max(hi, *v);
      } else {
        any_missing = true;
      }
    }
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (spec.scale == ScaleKind::kDiverging) hi = std::max(std::fabs(lo), std::fabs(hi)), lo = -hi;
  const ColorScale scale(spec.scale, lo, hi, spec.reversed);

  // Horizontal layout: row labels, cells, colour bar.
  const double left = 14 + std::min(widest(spec.row_labels, 12), 200.0) + 10 + (spec.row_title.empty() ? 0 : 18);
  const double cells_room = spec.max_width - left - kLegendWidth - 16;
  const double cell_w = std::clamp(cells_room / static_cast<double>(std::max<size_t>(cols, 1)), 14.0, 96.0);
  const double cell_h = spec.cell_height;
  // Vertical layout: group labels, column labels (slanted when they do not fit), cells, column title.
  const double col_label_w = widest(spec.col_labels, 11.5);
  const bool slanted = col_label_w > cell_w - 4;
  const double col_labels_h = slanted ? col_label_w * std::sin(kSlant * std::numbers::pi / 180) + 14 : 20;
  const double groups_h = spec.column_groups.empty() ? 0 : 26;
  const double top = 10 + (spec.col_title.empty() ? 0 : 18) + groups_h + col_labels_h;
  const double grid_w = cell_w * static_cast<double>(cols);
  const double grid_h = cell_h * static_cast<double>(rows);
  const double width = left + grid_w + 16 + kLegendWidth;
  const double height = top + grid_h + 16 + (any_missing && grid_h < 160 ? 30 : 0);
  Svg svg(width, std::max(height, 80.0), spec.id, spec.label);

  if (!spec.col_title.empty()) {
    svg.text(left + grid_w / 2, 18, spec.col_title, {kLabelFont, "middle", "#1f2328", "600"});
  }
  if (!spec.row_title.empty()) {
    svg.text(16, top + grid_h / 2, spec.row_title, {kLabelFont, "middle", "#1f2328", "600", -90.0, true});
  }
  // Column groups: a bracket over each group's columns with its label, and a gap line between groups.
  size_t first = 0;
  for (size_t g = 0; g < spec.column_groups.size(); ++g) {
    const auto& group = spec.column_groups[g];
    const double gx = left + cell_w * static_cast<double>(first);
    const double gw = cell_w * static_cast<double>(group.count);
    const double by = top - col_labels_h - 8;
    if (group.count > 0) {
      svg.path(fmt::format("M{} {} V{} H{} V{}", Svg::num(gx + 2), Svg::num(by + 5), Svg::num(by),
                           Svg::num(gx + gw - 2), Svg::num(by + 5)),
               {"none", kAxisColor, 1});
      const size_t room = static_cast<size_t>(std::max(3.0, gw / (0.6 * 11.5)));
      const std::string shown = ellipsize(group.label, room);
      svg.text(gx + gw / 2, by - 5, shown, {11.5, "middle", "#1f2328", "600"}, shown == group.label ? "" : group.label);
    }
    first += group.count;
  }
  for (size_t c = 0; c < cols; ++c) {
    const double cx = left + cell_w * (static_cast<double>(c) + 0.5);
    const std::string shown = ellipsize(spec.col_labels[c], kMaxLabelChars);
    const std::string tip = shown == spec.col_labels[c] ? "" : spec.col_labels[c];
    if (slanted) {
      svg.text(cx, top - 6, shown, {11.5, "start", "#1f2328", "", -kSlant}, tip);
    } else {
      svg.text(cx, top - 7, shown, {11.5, "middle", "#1f2328"}, tip);
    }
  }
  for (size_t r = 0; r < rows; ++r) {
    const double ry = top + cell_h * static_cast<double>(r);
    const std::string shown = ellipsize(spec.row_labels[r], kMaxLabelChars);
    svg.text(left - 8, ry + cell_h / 2, shown, {12, "end", "#1f2328", "", 0.0, true},
             shown == spec.row_labels[r] ? "" : spec.row_labels[r]);
    for (size_t c = 0; c < cols; ++c) {
      const double cx = left + cell_w * static_cast<double>(c);
      const auto& v = spec.values[r][c];
      const std::string tip =
          spec.tooltip ? spec.tooltip(r, c)
                       : fmt::format("{} — {}: {}", spec.row_labels[r], spec.col_labels[c],
                                     v ? format(*v) : std::string(kMissing));
      if (!v || !std::isfinite(*v)) {
        svg.missing_box(cx + 0.5, ry + 0.5, cell_w - 1, cell_h - 1, tip);
        continue;
      }
      const Rgb color = scale.at(*v);
      svg.rect(cx, ry, cell_w, cell_h, {to_hex(color), "#ffffff", 0.5}, tip);
      const std::string text = format(*v);
      if (estimate_text_width(text, kCellFont) <= cell_w - 8) {  // else the tooltip carries it
        svg.text(cx + cell_w / 2, ry + cell_h / 2, text, {kCellFont, "middle", text_color_on(color), "", 0.0, true},
                 tip);
      }
    }
  }
  if (spec.highlight) {
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < cols; ++c) {
        if (!spec.highlight(r, c)) continue;
        // A white ring inside a dark one: visible on the darkest and the lightest colours alike.
        const double x = left + cell_w * static_cast<double>(c), y = top + cell_h * static_cast<double>(r);
        svg.rect(x + 1.5, y + 1.5, cell_w - 3, cell_h - 3, {"none", "#1f2328", 3});
        svg.rect(x + 3.5, y + 3.5, cell_w - 7, cell_h - 7, {"none", "#ffffff", 1.5});
      }
    }
  }
  // Separators between column groups, drawn over the cells.
  first = 0;
  for (size_t g = 0; g + 1 < spec.column_groups.size(); ++g) {
    first += spec.column_groups[g].count;
    const double sx = left + cell_w * static_cast<double>(first);
    svg.line(sx, top - 4, sx, top + grid_h, {"none", "#1f2328", 2});
  }
  const double bar_h = std::clamp(grid_h, 60.0, 220.0);
  draw_color_bar(svg, scale, left + grid_w + 16, top, bar_h, spec.legend_label, any_missing);
  return svg.str();
}

}  // namespace grove::experiments::report
