#include "experiments/report/lineage_chart.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "experiments/report/chart_axes.h"
#include "experiments/report/svg.h"
#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace reg = grove::registry;
namespace {

constexpr double kRow = 18;
constexpr double kLeft = 84;
constexpr const char* kTrainable = "#0072b2";
constexpr const char* kFrozen = "#b6bcc3";

std::string init_color(reg::ExpertInit init) {
  switch (init) {
    case reg::ExpertInit::kBase: return "#1f2328";
    case reg::ExpertInit::kCopy: return "#e69f00";
    case reg::ExpertInit::kRandom: return "#009e73";
  }
  return "#1f2328";
}

// Experts of a layer in tree order: each root by slot, its descendants depth-first right below it.
void flatten(const reg::LineageNode& node, int depth, std::vector<std::pair<const reg::ExpertRow*, int>>& out) {
  out.emplace_back(&node.expert, depth);
  for (const auto& child : node.children) flatten(child, depth + 1, out);
}

// What makes two layers' lineage the same picture.
std::string signature(const RunData& run, int64_t layer) {
  std::map<int64_t, int64_t> slot_of;
  for (const auto& e : run.experts) {
    if (e.layer == layer) slot_of[e.id] = e.slot;
  }
  std::string s;
  for (const auto& e : run.experts) {
    if (e.layer != layer) continue;
    s += fmt::format("{}:{}:{}:{}:{}:{};", e.slot, e.group_idx, e.born_phase_id,
                     e.parent_expert_id ? slot_of[*e.parent_expert_id] : -1, reg::to_text(e.init),
                     e.frozen_at_phase_id.value_or(-1));
  }
  return s;
}

}  // namespace

std::string layers_text(const std::vector<int64_t>& layers) {
  if (layers.size() == 1) return fmt::format("layer {}", layers[0]);
  bool contiguous = true;
  for (size_t i = 1; i < layers.size(); ++i) contiguous = contiguous && layers[i] == layers[i - 1] + 1;
  if (contiguous && layers.size() > 2) return fmt::format("layers {}–{}", layers.front(), layers.back());
  return fmt::format("layers {}", fmt::join(layers, ", "));
}

std::vector<std::vector<int64_t>> layers_with_identical_lineage(const RunData& run) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> groups;
  for (const auto& [layer, roots] : run.forest) {
    const std::string sig = signature(run, layer);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == sig; });
    if (it == groups.end()) {
      groups.push_back({sig, {layer}});
    } else {
      it->second.push_back(layer);
    }
  }
  std::vector<std::vector<int64_t>> out;
  for (auto& g : groups) out.push_back(std::move(g.second));
  return out;
}

std::string render_lineage_chart(const RunData& run, int64_t layer, const std::string& id,
                                 const std::string& layers_label) {
  const auto forest = run.forest.find(layer);
  if (forest == run.forest.end() || forest->second.empty()) return "";
  std::vector<std::pair<const reg::ExpertRow*, int>> rows;
  for (const auto& root : forest->second) flatten(root, 0, rows);
  std::map<int64_t, size_t> row_of;  // expert id -> row
  for (size_t r = 0; r < rows.size(); ++r) row_of[rows[r].first->id] = r;

  const size_t phases = std::max<size_t>(run.phases.size(), 1);
  const double width = 580;
  const std::vector<LegendItem> legend = {
      {"trains", kTrainable, "", true, false},        {"frozen", kFrozen, "", true, false},
      {"init: base", init_color(reg::ExpertInit::kBase), "", false, false},
      {"init: copy of parent", init_color(reg::ExpertInit::kCopy), "", false, false},
      {"init: random", init_color(reg::ExpertInit::kRandom), "", false, false}};
  const double legend_h = legend_height(width - 40, legend);
  const double header = 10 + legend_h + 40;
  const double height = header + kRow * static_cast<double>(rows.size()) + 12;
  Svg svg(width, height, id, fmt::format("Expert lineage of {}", layers_label));
  draw_legend(svg, 20, 6, width - 40, legend);

  const double col_w = (width - kLeft - 20) / static_cast<double>(phases);
  auto col_x = [&](size_t position) { return kLeft + col_w * (static_cast<double>(position) + 0.5); };
  for (size_t p = 0; p < run.phases.size(); ++p) {
    const double cx = col_x(p);
    svg.rect(kLeft + col_w * static_cast<double>(p), header - 4, col_w, height - header - 6,
             {p % 2 == 0 ? "#f6f8fa" : "#ffffff", "none"});
    // Two lines: "phase i", then its distribution shortened to the column.
    const auto room = static_cast<size_t>(std::max(4.0, col_w / (0.6 * 10.5)));
    svg.text(cx, header - 22, fmt::format("phase {}", run.phases[p].row.idx), {11.5, "middle", "#1f2328", "600"},
             run.phase_label(p));
    svg.text(cx, header - 9, ellipsize(run.phases[p].distribution, room), {10.5, "middle", "#57606a"},
             run.phase_label(p));
  }
  const double end_x = kLeft + col_w * static_cast<double>(phases) - 6;

  auto row_y = [&](size_t r) { return header + kRow * (static_cast<double>(r) + 0.5); };
  for (size_t r = 0; r < rows.size(); ++r) {
    const reg::ExpertRow& e = *rows[r].first;
    const double y = row_y(r);
    const size_t born = run.phase_position(e.born_phase_id).value_or(0);
    // Frozen since phases[frozen_at]; phases.size() when not frozen (or frozen by a phase of another run).
    const size_t frozen_at =
        e.frozen_at_phase_id ? run.phase_position(*e.frozen_at_phase_id).value_or(run.phases.size()) : run.phases.size();
    const bool frozen = frozen_at < run.phases.size();
    // Whether it trains in phases[p]: the group the phase recorded as trained (a phase without growth may train an
    // older group again); where none is recorded (every group trains, or an older registry), until it froze.
    auto trains_in = [&](size_t p) {
      const auto& group = run.phases[p].row.trained_group;
      return group ? *group == e.group_idx : p < frozen_at;
    };
    std::string trained_in;
    for (size_t p = born; p < run.phases.size(); ++p) {
      if (run.phases[p].row.trained_group && trains_in(p)) {
        trained_in += (trained_in.empty() ? "; trained in " : ", ") + run.phase_label(p);
      }
    }
    std::string parent_text = "no parent";
    if (e.parent_expert_id) {
      const auto parent = row_of.find(*e.parent_expert_id);
      parent_text = parent == row_of.end() ? "parent not in this layer"
                                           : fmt::format("copied from expert {}", rows[parent->second].first->slot);
    }
    const std::string tip =
        fmt::format("expert {} (layer {}, group {}): born in {}, init {}, {}; {}{}{}", e.slot, e.layer, e.group_idx,
                    run.phase_label(born), reg::to_text(e.init), parent_text,
                    frozen ? "frozen from " + run.phase_label(frozen_at) : std::string("not frozen"), trained_in,
                    e.n_params ? fmt::format(", {} parameters", *e.n_params) : "");
    svg.text(kLeft - 12, y, fmt::format("expert {}", e.slot),
             {11.5, "end", "#1f2328", "", 0.0, true}, tip);
    // Life line from its birth: one segment per run of phases in which it trains (blue) or is frozen (grey).
    const double x0 = col_x(born);
    double x_start = x0;
    if (born >= run.phases.size()) svg.line(x0, y, std::max(x0, end_x), y, {"none", kTrainable, 5});
    for (size_t p = born; p < run.phases.size(); ++p) {
      const bool run_ends = p + 1 == run.phases.size() || trains_in(p + 1) != trains_in(p);
      if (!run_ends) continue;
      const double x_end = p + 1 == run.phases.size() ? end_x : col_x(p + 1) - col_w * 0.5;
      svg.line(x_start, y, std::max(x_start, x_end), y, {"none", trains_in(p) ? kTrainable : kFrozen, 5});
      x_start = x_end;
    }
    svg.rect(x0, y - kRow / 2, end_x - x0, kRow, {"#ffffff", "none", 1, "", 0.0}, tip);  // hover target
    if (e.parent_expert_id) {
      const auto parent = row_of.find(*e.parent_expert_id);
      if (parent != row_of.end()) {
        const double py = row_y(parent->second);
        const double px = x0 - col_w * 0.35;
        svg.path(fmt::format("M{} {} C{} {} {} {} {} {}", Svg::num(px), Svg::num(py), Svg::num(px), Svg::num(y),
                             Svg::num(px), Svg::num(y), Svg::num(x0 - 5), Svg::num(y)),
                 {"none", "#57606a", 1.3});
        svg.circle(px, py, 2.2, {"#57606a", "none"});
      }
    }
    svg.circle(x0, y, 5.2, {init_color(e.init), "#ffffff", 1.2}, tip);
  }
  return svg.str();
}

}  // namespace grove::experiments::report
