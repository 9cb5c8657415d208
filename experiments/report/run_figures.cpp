#include "experiments/report/run_figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "experiments/report/bar_chart.h"
#include "experiments/report/heatmap.h"
#include "experiments/report/line_chart.h"
#include "experiments/report/lineage_chart.h"
#include "experiments/report/number_format.h"
#include "experiments/report/stacked_bar_chart.h"

namespace grove::experiments::report {
namespace reg = grove::registry;
namespace {

std::string bpb_text(double v) { return format_fixed(v, 3); }

bool any_present(const std::vector<reg::Cell>& cells) {
  return std::any_of(cells.begin(), cells.end(), [](const reg::Cell& c) { return c.has_value(); });
}

std::string cell_tooltip(const RunData& run, size_t i, size_t j, const reg::Cell& value) {
  const auto& m = run.matrix;
  return fmt::format("{} on {}: {}", matrix_row_label(run, i), m.distributions[j],
                     value ? bpb_text(*value) + " bits per byte" : std::string("not evaluated (n/a)"));
}

// Steps on one axis across phases: phases that restart their step count are shifted to follow the previous one.
struct StepAxis {
  std::vector<double> offset;        // per phase
  std::vector<XLabel> boundaries;    // where phases 1.. start
};

StepAxis step_axis(const RunData& run) {
  StepAxis axis;
  double end = 0;
  for (size_t p = 0; p < run.phases.size(); ++p) {
    const auto& rows = run.phases[p].training;
    double offset = 0;
    if (!rows.empty() && static_cast<double>(rows.front().step) < end) offset = end;
    axis.offset.push_back(offset);
    if (p > 0 && !rows.empty()) axis.boundaries.push_back({end, fmt::format("phase {}", run.phases[p].row.idx)});
    if (!rows.empty()) {
      const double last = static_cast<double>(std::max(rows.back().step, run.phases[p].row.steps_total));
      end = std::max(end, offset + last);
    }
  }
  return axis;
}

// What the matrix and the change heatmaps share: columns are the run's distributions, rows models.
HeatmapSpec matrix_spec(const RunData& run, std::string id, std::string label) {
  HeatmapSpec spec;
  spec.id = std::move(id);
  spec.label = std::move(label);
  spec.col_labels = run.matrix.distributions;
  spec.row_title = "model";
  spec.col_title = "evaluated on (holdout)";
  spec.max_width = 560;
  return spec;
}

// The heatmap, or a "no data" chart when no phase has been evaluated (a heatmap needs at least one column).
std::string matrix_heatmap(const HeatmapSpec& spec) {
  if (!spec.col_labels.empty()) return render_heatmap(spec);
  LineChartSpec empty;
  empty.id = spec.id;
  empty.label = spec.label;
  empty.no_data_message = "no phase has been evaluated yet";
  return render_line_chart(empty);
}

}  // namespace

std::string matrix_row_label(const RunData& run, size_t row) {
  return row < run.phases.size() ? "after " + run.phase_label(row) : fmt::format("after phase {}", row);
}

Figure forgetting_matrix_figure(const RunData& run, const std::string& prefix) {
  const auto& m = run.matrix;
  const bool with_init = any_present(m.init);
  HeatmapSpec spec = matrix_spec(run, prefix + "-matrix",
                                 "Forgetting matrix: holdout bits per byte of each distribution after each phase");
  if (with_init) {
    spec.row_labels.push_back("untrained");
    spec.values.push_back(m.init);
  }
  for (size_t i = 0; i < m.after.size(); ++i) {
    spec.row_labels.push_back(matrix_row_label(run, i));
    spec.values.push_back(m.after[i]);
  }
  spec.legend_label = "bits per byte (lower is better)";
  // Colours span the trained model's rows; the untrained row (far higher) clamps to the top colour rather than
  // squeezing every trained value into the darkest shades. Its values are written in the cells as usual.
  for (const auto& row : m.after) {
    for (const auto& cell : row) {
      if (!cell) continue;
      spec.lo = spec.lo ? std::min(*spec.lo, *cell) : *cell;
      spec.hi = spec.hi ? std::max(*spec.hi, *cell) : *cell;
    }
  }
  spec.format = bpb_text;
  const size_t shift = with_init ? 1 : 0;
  spec.tooltip = [&run, &spec, shift](size_t r, size_t c) {
    if (r < shift) {
      return fmt::format("untrained model on {}: {}", run.matrix.distributions[c],
                         spec.values[r][c] ? bpb_text(*spec.values[r][c]) + " bits per byte" : "not evaluated (n/a)");
    }
    return cell_tooltip(run, r - shift, c, spec.values[r][c]);
  };
  spec.highlight = [shift](size_t r, size_t c) { return r >= shift && r - shift == c; };
  Figure figure{spec.id, "Forgetting matrix",
                "Holdout bits per byte of each distribution (column) measured after each phase (row); lower is "
                "better. Outlined cells are each distribution right after its own phase, R[j][j]; cells below an "
                "outline show what later phases did to it (brighter: worse, forgetting). Cells above the diagonal "
                "are forward transfer (the model before it trained on that distribution). Hatched n/a: not "
                "evaluated.",
                "", false};
  figure.svg = matrix_heatmap(spec);
  return figure;
}

Figure forgetting_change_figure(const RunData& run, const std::string& prefix) {
  const auto& m = run.matrix;
  HeatmapSpec spec =
      matrix_spec(run, prefix + "-change", "Change in bits per byte since each distribution was trained");
  spec.scale = ScaleKind::kDiverging;
  spec.legend_label = "change in bpb (+ is forgetting)";
  spec.format = [](double v) { return format_signed(v, 3); };
  for (size_t i = 0; i < m.after.size(); ++i) {
    spec.row_labels.push_back(matrix_row_label(run, i));
    std::vector<std::optional<double>> row;
    for (size_t j = 0; j < m.distributions.size(); ++j) {
      const bool defined = j <= i && m.after[i][j] && m.after[j][j];
      row.push_back(defined ? std::optional<double>(*m.after[i][j] - *m.after[j][j]) : std::nullopt);
    }
    spec.values.push_back(std::move(row));
  }
  spec.tooltip = [&run, &spec](size_t i, size_t j) {
    if (j > i) return fmt::format("{} on {}: not trained yet (n/a)", matrix_row_label(run, i), run.matrix.distributions[j]);
    const auto& v = spec.values[i][j];
    return fmt::format("{} on {}: {} bits per byte since its own phase", matrix_row_label(run, i),
                       run.matrix.distributions[j], v ? format_signed(*v, 3) : std::string("n/a (a cell is missing)"));
  };
  Figure figure{spec.id, "Change since trained",
                "R[i][j] − R[j][j]: how much each distribution's bits per byte moved after later phases, relative to "
                "right after its own phase (the diagonal, 0). Red is forgetting (worse), blue is improvement; the "
                "last row's values are the per-distribution forgetting terms. Above the diagonal: n/a (not trained "
                "yet).",
                "", false};
  figure.svg = matrix_heatmap(spec);
  return figure;
}

Figure bpb_across_phases_figure(const RunData& run, const std::string& prefix) {
  const auto& m = run.matrix;
  LineChartSpec spec;
  spec.id = prefix + "-bpb";
  spec.label = "Bits per byte of each distribution across phases";
  spec.x_label = "model";
  spec.y_label = "bits per byte (holdout)";
  spec.format_y = bpb_text;
  const bool with_init = any_present(m.init);
  double x = 0;
  if (with_init) spec.categories.push_back({x++, "untrained"});
  for (size_t i = 0; i < m.after.size(); ++i) spec.categories.push_back({x++, run.phase_label(i)});
  for (size_t j = 0; j < m.distributions.size(); ++j) {
    LineSeries series{m.distributions[j], {}, j};
    double px = 0;
    if (with_init) series.points.push_back({px++, m.init[j], ""});
    for (size_t i = 0; i < m.after.size(); ++i) {
      series.points.push_back({px++, m.after[i][j], cell_tooltip(run, i, j, m.after[i][j])});
    }
    spec.series.push_back(std::move(series));
  }
  spec.no_data_message = "no phase has been evaluated yet";
  spec.width = 900;
  spec.height = 380;
  return {spec.id, "Bits per byte across phases",
          "Each line is one distribution's holdout bits per byte on the untrained model and after each phase "
          "(lower is better). A line that rises after its own phase is forgetting; open grey circles on the axis "
          "mark evaluations that do not exist (the distribution was not ingested yet, or the evaluation is "
          "missing).",
          render_line_chart(spec), true};
}

std::vector<Figure> routing_figures(const RunData& run, const std::string& prefix) {
  std::vector<Figure> figures;
  if (!run.routing_phase) return figures;
  const size_t rp = *run.routing_phase;
  std::map<int64_t, const reg::ExpertRow*> expert_by_id;
  for (const auto& e : run.experts) expert_by_id[e.id] = &e;
  // Distribution order: by the phase that introduced it, then any others by id.
  std::map<int64_t, size_t> dist_rank;
  for (size_t p = 0; p < run.phases.size(); ++p) dist_rank.emplace(run.phases[p].row.distribution_id, p);
  std::set<int64_t> layers;
  for (const auto& r : run.routing) layers.insert(r.layer);

  for (int64_t layer : layers) {
    std::vector<const reg::ExpertRow*> experts;
    for (const auto& e : run.experts) {
      const auto born = run.phase_position(e.born_phase_id);
      if (e.layer == layer && born && *born <= rp) experts.push_back(&e);
    }
    std::vector<int64_t> dists;
    for (const auto& r : run.routing) {
      if (r.layer == layer && std::find(dists.begin(), dists.end(), r.distribution_id) == dists.end()) {
        dists.push_back(r.distribution_id);
      }
      // An expert the experts table does not list for this layer still gets its column.
      const auto e = expert_by_id.find(r.expert_id);
      if (r.layer == layer && e != expert_by_id.end() &&
          std::find(experts.begin(), experts.end(), e->second) == experts.end()) {
        experts.push_back(e->second);
      }
    }
    auto born_of = [&](const reg::ExpertRow* e) { return run.phase_position(e->born_phase_id).value_or(0); };
    std::stable_sort(experts.begin(), experts.end(), [&](const reg::ExpertRow* a, const reg::ExpertRow* b) {
      return std::make_pair(born_of(a), a->slot) < std::make_pair(born_of(b), b->slot);
    });
    std::stable_sort(dists.begin(), dists.end(), [&](int64_t a, int64_t b) {
      const size_t ra = dist_rank.count(a) ? dist_rank[a] : run.phases.size();
      const size_t rb = dist_rank.count(b) ? dist_rank[b] : run.phases.size();
      return std::make_pair(ra, a) < std::make_pair(rb, b);
    });

    HeatmapSpec spec;
    spec.id = fmt::format("{}-routing-l{}", prefix, layer);
    spec.label = fmt::format("Expert utilisation by distribution, layer {}", layer);
    spec.row_title = "distribution";
    spec.col_title = "expert (grouped by the phase that added it)";
    spec.scale = ScaleKind::kCividis;
    spec.lo = 0.0;
    spec.legend_label = "share of tokens";
    spec.format = [](double v) { return fmt::format("{:.0f}%", v * 100); };
    spec.cell_height = 26;
    spec.max_width = experts.size() > 12 ? 1150 : 900;  // many experts: the figure spans the page
    for (const auto* e : experts) {
      spec.col_labels.push_back(std::to_string(e->slot));
      const std::string group = run.phase_label(born_of(e));
      if (spec.column_groups.empty() || spec.column_groups.back().label != group) {
        spec.column_groups.push_back({group, 0});
      }
      ++spec.column_groups.back().count;
    }
    std::map<std::pair<int64_t, int64_t>, double> share;  // (distribution, expert) -> fraction
    for (const auto& r : run.routing) {
      if (r.layer == layer) share[{r.distribution_id, r.expert_id}] = r.token_fraction;
    }
    for (int64_t d : dists) {
      spec.row_labels.push_back(run.distribution_names.at(d));
      std::vector<std::optional<double>> row;
      for (const auto* e : experts) {
        const auto it = share.find({d, e->id});
        row.push_back(it == share.end() ? std::nullopt : std::optional<double>(it->second));
      }
      spec.values.push_back(std::move(row));
    }
    spec.tooltip = [&run, &spec, experts, dists, born_of](size_t r, size_t c) {
      const auto& v = spec.values[r][c];
      return fmt::format("{} → expert {} (added in {}): {}", run.distribution_names.at(dists[r]), experts[c]->slot,
                         run.phase_label(born_of(experts[c])),
                         v ? fmt::format("{:.1f}% of tokens", *v * 100) : std::string("no routing row (n/a)"));
    };
    Figure figure{spec.id, fmt::format("Expert utilisation, layer {}", layer),
                  fmt::format("Share of each distribution's holdout tokens (row) that the router sends to each expert "
                              "(column) of layer {}, measured after {}. With top-k routing a row sums to k × 100%. "
                              "Columns are grouped by the phase that added the experts: a new distribution that "
                              "uses its own phase's experts is what growth is for. Hatched n/a: no routing row.",
                              layer, run.phase_label(rp)),
                  "", experts.size() > 12};
    figure.svg = render_heatmap(spec);
    figures.push_back(std::move(figure));
  }
  return figures;
}

std::vector<Figure> lineage_figures(const RunData& run, const std::string& prefix) {
  std::vector<Figure> figures;
  for (const auto& layers : layers_with_identical_lineage(run)) {
    const std::string which = layers_text(layers);
    Figure figure{fmt::format("{}-lineage-l{}", prefix, layers.front()), "Expert lineage, " + which,
                  fmt::format("Every expert of {} (rows; copies sit below their parents) across phases (columns). A "
                              "dot marks the phase that created the expert, coloured by how it was initialised; the "
                              "line is blue while the expert trains and grey from the phase that froze it. A curve "
                              "joins a copied expert to its parent.{}",
                              which, layers.size() > 1 ? " These layers grew identically; one chart shows them all."
                                                       : ""),
                  render_lineage_chart(run, layers.front(), fmt::format("{}-lineage-l{}", prefix, layers.front()),
                                       which),
                  false};
    if (!figure.svg.empty()) figures.push_back(std::move(figure));
  }
  return figures;
}

Figure parameters_figure(const RunData& run, const std::string& prefix) {
  BarChartSpec spec;
  spec.id = prefix + "-params";
  spec.label = "Total and active parameters per phase";
  spec.y_label = "parameters";
  spec.series = {"total", "active per token"};
  spec.color_index = {0, 1};
  spec.values.assign(2, {});
  for (size_t p = 0; p < run.phases.size(); ++p) {
    spec.groups.push_back(run.phase_label(p));
    const auto& row = run.phases[p].row;
    spec.values[0].push_back(row.params_total ? std::optional<double>(static_cast<double>(*row.params_total))
                                              : std::nullopt);
    spec.values[1].push_back(row.params_active ? std::optional<double>(static_cast<double>(*row.params_active))
                                               : std::nullopt);
  }
  spec.format = [](double v) { return format_count(static_cast<int64_t>(std::llround(v))); };
  spec.no_data_message = "parameter counts were not recorded for this run";
  return {spec.id, "Total vs active parameters",
          "Parameters of the model at the end of each phase: all of them (total) and those one token uses (the "
          "shared weights plus its top-k experts). Growth raises the total while the active count stays nearly "
          "flat; that is the point of adding experts rather than width.",
          render_bar_chart(spec), false};
}

Figure time_split_figure(const RunData& run, const std::string& prefix) {
  StackedBarChartSpec spec;
  spec.id = prefix + "-time";
  spec.label = "Wall time per phase: setup, training, checkpoint stalls, evaluation and other";
  spec.y_label = "seconds";
  spec.series = {"setup", "training", "checkpoint stalls", "evaluation", "other"};
  spec.values.assign(spec.series.size(), {});
  std::string goodputs;
  for (size_t p = 0; p < run.phases.size(); ++p) {
    spec.groups.push_back(run.phase_label(p));
    const auto& times = run.phases[p].times;
    const double reg::PhaseTimes::*uses[] = {&reg::PhaseTimes::setup_s, &reg::PhaseTimes::training_s,
                                             &reg::PhaseTimes::checkpoint_s, &reg::PhaseTimes::eval_s,
                                             &reg::PhaseTimes::other_s};
    for (size_t s = 0; s < spec.series.size(); ++s) {
      spec.values[s].push_back(times ? std::optional<double>((*times).*uses[s]) : std::nullopt);
    }
    if (const auto goodput = times ? times->goodput() : std::nullopt) {
      goodputs += fmt::format("{}phase {}: {} tokens/s", goodputs.empty() ? "" : ", ", run.phases[p].row.idx,
                              format_count(static_cast<int64_t>(std::llround(*goodput))));
    }
  }
  spec.format = [](double v) { return format_fixed(v, 1); };
  spec.no_data_message = "phase times were not recorded for this run";
  return {spec.id, "Where the time went",
          fmt::format("Each phase's wall time in seconds, stacked: setup (phase start to the end of its first "
                      "step), the training steps, the training thread's checkpoint stalls, evaluation, and the "
                      "rest. A resumed phase counts every attempt. Goodput (training tokens per second of wall "
                      "time): {}.",
                      goodputs.empty() ? std::string("not recorded") : goodputs),
          render_stacked_bar_chart(spec), false};
}

std::vector<Figure> training_figures(const RunData& run, const std::string& prefix) {
  const StepAxis axis = step_axis(run);
  struct Curve {
    const char* key;
    const char* title;
    const char* y_label;
    std::optional<double> reg::TrainMetricRow::*field;
    const char* caption;
  };
  const Curve curves[] = {
      {"loss", "Training loss", "loss (nats per token)", &reg::TrainMetricRow::loss,
       "Training loss per step, one colour per phase, on one step axis (dashed lines: where each phase starts). "
       "A jump at a phase start is the new distribution arriving."},
      {"kd", "Distillation (KD) loss", "KD loss", &reg::TrainMetricRow::kd_loss,
       "Distillation loss against the previous phase's model, per step (recorded by strategies that use KD)."},
      {"aux", "Auxiliary router loss", "aux loss", &reg::TrainMetricRow::aux_loss,
       "Router auxiliary losses (load balancing and z-loss, weighted) per step."},
  };
  std::vector<Figure> figures;
  for (const Curve& curve : curves) {
    LineChartSpec spec;
    spec.id = fmt::format("{}-train-{}", prefix, curve.key);
    spec.label = curve.title;
    spec.x_label = "training step";
    spec.y_label = curve.y_label;
    spec.boundaries = axis.boundaries;
    spec.format_y = [](double v) { return format_fixed(v, 4); };
    bool any = false;
    for (size_t p = 0; p < run.phases.size(); ++p) {
      LineSeries series{run.phase_label(p), {}, p};
      for (const auto& row : run.phases[p].training) {
        const auto& value = row.*curve.field;
        any = any || value.has_value();
        series.points.push_back({axis.offset[p] + static_cast<double>(row.step), value,
                                 fmt::format("{}, step {}: {}", run.phase_label(p), row.step,
                                             value ? format_fixed(*value, 4) : std::string(kMissing))});
      }
      if (!series.points.empty()) spec.series.push_back(std::move(series));
    }
    // KD and aux charts only when recorded; the loss chart always (it says so when nothing was recorded).
    if (!any && curve.field != &reg::TrainMetricRow::loss) continue;
    // Series with no value at all would only add n/a markers along the axis.
    std::erase_if(spec.series, [](const LineSeries& s) {
      return std::none_of(s.points.begin(), s.points.end(), [](const LinePoint& p) { return p.y.has_value(); });
    });
    spec.no_data_message = "no training metrics were recorded for this run";
    spec.markers = false;
    spec.width = 1100;
    spec.height = curve.field == &reg::TrainMetricRow::loss ? 340 : 280;
    figures.push_back({spec.id, curve.title, curve.caption, render_line_chart(spec), true});
  }
  return figures;
}

}  // namespace grove::experiments::report
