#include "experiments/report/chart_axes.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace {

constexpr double kTilt = -30.0;
constexpr double kLegendRow = 20.0;
constexpr double kLegendSample = 22.0;

bool labels_fit(const std::vector<std::string>& labels, double slot_width) {
  return std::all_of(labels.begin(), labels.end(),
                     [&](const std::string& l) { return estimate_text_width(l, kAxisFont) <= slot_width - 4; });
}

// Longest label text that fits a tilted axis: about 150 px along the slant.
constexpr size_t kMaxTiltedChars = 24;

template <typename Draw>
double layout_legend(double max_width, const std::vector<LegendItem>& items, Draw draw) {
  double cursor = 0;
  double row = 0;
  for (const auto& item : items) {
    const std::string label = ellipsize(item.label, 40);
    const double w = kLegendSample + 6 + estimate_text_width(label, kAxisFont) + 16;
    if (cursor > 0 && cursor + w > max_width) {
      cursor = 0;
      row += 1;
    }
    draw(item, label, cursor, row * kLegendRow);
    cursor += w;
  }
  return items.empty() ? 0 : (row + 1) * kLegendRow;
}

}  // namespace

void draw_y_axis(Svg& svg, const PlotArea& area, const LinearScale& y, const std::vector<double>& ticks,
                 const std::function<std::string(double)>& format, const std::string& label) {
  for (double t : ticks) {
    const double py = y(t);
    if (py < area.top - 0.5 || py > area.bottom() + 0.5) continue;
    svg.line(area.left, py, area.right(), py, {"none", kGridColor, 1});
    svg.line(area.left - 4, py, area.left, py, {"none", kAxisColor, 1});
    svg.text(area.left - 7, py, format(t), {kAxisFont, "end", kAxisColor, "", 0.0, true});
  }
  svg.line(area.left, area.top, area.left, area.bottom(), {"none", kAxisColor, 1});
  if (!label.empty()) {
    svg.text(16, area.top + area.height / 2, label, {kLabelFont, "middle", "#1f2328", "", -90.0, true});
  }
}

void draw_x_axis(Svg& svg, const PlotArea& area, const LinearScale& x, const std::vector<double>& ticks,
                 const std::function<std::string(double)>& format, const std::string& label) {
  svg.line(area.left, area.bottom(), area.right(), area.bottom(), {"none", kAxisColor, 1});
  for (double t : ticks) {
    const double px = x(t);
    if (px < area.left - 0.5 || px > area.right() + 0.5) continue;
    svg.line(px, area.bottom(), px, area.bottom() + 4, {"none", kAxisColor, 1});
    svg.text(px, area.bottom() + 17, format(t), {kAxisFont, "middle", kAxisColor});
  }
  if (!label.empty()) svg.text(area.left + area.width / 2, area.bottom() + 38, label, {kLabelFont, "middle"});
}

double category_axis_height(const std::vector<std::string>& labels, double slot_width) {
  if (labels_fit(labels, slot_width)) return 24;
  double longest = 0;
  for (const auto& l : labels) longest = std::max(longest, estimate_text_width(ellipsize(l, kMaxTiltedChars), kAxisFont));
  return 16 + longest * std::sin(-kTilt * std::numbers::pi / 180.0) + 8;
}

double draw_category_axis(Svg& svg, const PlotArea& area, const std::vector<double>& positions,
                          const std::vector<std::string>& labels, const std::string& label) {
  svg.line(area.left, area.bottom(), area.right(), area.bottom(), {"none", kAxisColor, 1});
  const double slot = labels.empty() ? area.width : area.width / static_cast<double>(labels.size());
  const bool straight = labels_fit(labels, slot);
  for (size_t i = 0; i < labels.size() && i < positions.size(); ++i) {
    const double px = positions[i];
    svg.line(px, area.bottom(), px, area.bottom() + 4, {"none", kAxisColor, 1});
    if (straight) {
      svg.text(px, area.bottom() + 17, labels[i], {kAxisFont, "middle", kAxisColor});
    } else {
      const std::string shown = ellipsize(labels[i], kMaxTiltedChars);
      svg.text(px + 3, area.bottom() + 14, shown, {kAxisFont, "end", kAxisColor, "", kTilt},
               shown == labels[i] ? "" : labels[i]);
    }
  }
  const double used = category_axis_height(labels, slot);
  if (!label.empty()) svg.text(area.left + area.width / 2, area.bottom() + used + 16, label, {kLabelFont, "middle"});
  return used;
}

double legend_height(double max_width, const std::vector<LegendItem>& items) {
  return layout_legend(max_width, items, [](const LegendItem&, const std::string&, double, double) {});
}

double draw_legend(Svg& svg, double x, double y, double max_width, const std::vector<LegendItem>& items) {
  return layout_legend(max_width, items, [&](const LegendItem& item, const std::string& label, double dx, double dy) {
    const double cy = y + dy + kLegendRow / 2;
    const double sx = x + dx;
    if (item.hatched) {
      svg.rect(sx, cy - 6, kLegendSample, 12, {svg.hatch_fill(), "#c4c4c4", 0.5});
    } else if (item.line) {
      svg.line(sx, cy, sx + kLegendSample, cy, {"none", item.color, 2.5, item.dash});
      svg.circle(sx + kLegendSample / 2, cy, 3.2, {item.color, "#fff", 1});
    } else {
      svg.rect(sx, cy - 6, kLegendSample, 12, {item.color, "none"});
    }
    svg.text(sx + kLegendSample + 6, cy, label, {kAxisFont, "start", "#1f2328", "", 0.0, true},
             label == item.label ? "" : item.label);
  });
}

PlotArea category_plot_area(Svg& svg, double width, double height, const std::vector<std::string>& groups,
                            const std::vector<LegendItem>& legend) {
  PlotArea area{72, 14 + legend_height(width - 80, legend), width - 72 - 24, 0};
  const double slot = groups.empty() ? area.width : area.width / static_cast<double>(groups.size());
  area.height = height - area.top - category_axis_height(groups, slot) - 30;
  draw_legend(svg, area.left, 6, width - 80, legend);
  return area;
}

void draw_no_data(Svg& svg, const PlotArea& area, const std::string& message) {
  svg.rect(area.left, area.top, area.width, area.height, {svg.hatch_fill(), "#c4c4c4", 1}, message);
  const double w = estimate_text_width(message, kLabelFont) + 24;
  svg.rect(area.left + (area.width - w) / 2, area.top + area.height / 2 - 14, w, 28, {"#ffffff", "#c4c4c4", 1});
  svg.text(area.left + area.width / 2, area.top + area.height / 2, message,
           {kLabelFont, "middle", "#57606a", "", 0.0, true});
}

}  // namespace grove::experiments::report
