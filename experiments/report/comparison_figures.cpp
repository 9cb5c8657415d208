#include "experiments/report/comparison_figures.h"

#include <fmt/format.h>

#include <algorithm>

#include "experiments/report/bar_chart.h"
#include "experiments/report/number_format.h"

namespace grove::experiments::report {
namespace {

std::optional<double> column_value(const RunData& run, const std::string& distribution,
                                   const std::vector<registry::Cell>& terms) {
  const auto& names = run.matrix.distributions;
  const auto it = std::find(names.begin(), names.end(), distribution);
  if (it == names.end()) return std::nullopt;
  return terms[static_cast<size_t>(it - names.begin())];
}

BarChartSpec runs_chart(const std::vector<RunData>& runs, std::string id, std::string label) {
  BarChartSpec spec;
  spec.id = std::move(id);
  spec.label = std::move(label);
  for (const auto& run : runs) spec.series.push_back(run_label(run));
  spec.values.assign(runs.size(), {});
  spec.format = [](double v) { return format_fixed(v, 3); };
  spec.height = 360;
  return spec;
}

// One group per distribution (by name) that some run has a term for, plus "mean"; bars are runs.
template <typename Terms, typename Mean>
std::string per_distribution_chart(const std::vector<RunData>& runs, std::string id, std::string label,
                                   std::string y_label, Terms terms_of, Mean mean_of) {
  BarChartSpec spec = runs_chart(runs, std::move(id), std::move(label));
  spec.y_label = std::move(y_label);
  spec.x_label = "distribution";
  std::vector<std::string> dists = union_of_distributions(runs);
  // e.g. the last distribution of every run has no forgetting term, the first no new-distribution bpb.
  std::erase_if(dists, [&](const std::string& d) {
    return std::none_of(runs.begin(), runs.end(),
                        [&](const RunData& run) { return column_value(run, d, terms_of(run)).has_value(); });
  });
  spec.groups = dists;
  spec.groups.push_back("mean");
  for (size_t r = 0; r < runs.size(); ++r) {
    const std::vector<registry::Cell> terms = terms_of(runs[r]);
    for (const auto& d : dists) spec.values[r].push_back(column_value(runs[r], d, terms));
    spec.values[r].push_back(mean_of(runs[r]));
  }
  return render_bar_chart(spec);
}

}  // namespace

std::string run_label(const RunData& run) { return fmt::format("{} ({})", run.run.name, run.run.strategy); }

std::vector<std::string> union_of_distributions(const std::vector<RunData>& runs) {
  std::vector<std::string> out;
  for (const auto& run : runs) {
    for (const auto& d : run.matrix.distributions) {
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    }
  }
  return out;
}

Figure comparison_metrics_figure(const std::vector<RunData>& runs) {
  BarChartSpec spec = runs_chart(runs, "compare-metrics", "Forgetting metrics by run");
  spec.width = 960;
  spec.groups = {"ACC", "BWT", "FWT", "mean forgetting", "mean max-forgetting", "new-distribution bpb"};
  spec.y_label = "bits per byte";
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& m = runs[r].metrics;
    spec.values[r] = {m.acc.value,        m.bwt.value,           m.fwt.value,
                      m.forgetting.value, m.max_forgetting.value, new_distribution_bpb(runs[r].matrix).mean};
  }
  return {spec.id, "Metrics by run",
          "Every metric is in bits per byte. Lower is better for ACC, forgetting, max-forgetting and "
          "new-distribution bpb; higher is better for BWT (negative: forgetting) and FWT. A method that keeps old "
          "knowledge has forgetting near 0 while its new-distribution bpb stays close to fine-tuning's.",
          render_bar_chart(spec), true};
}

Figure comparison_forgetting_figure(const std::vector<RunData>& runs) {
  return {"compare-forgetting", "Forgetting per distribution",
          "forgetting_j = R[T][j] − R[j][j]: how much worse each earlier distribution is at the end of the run than "
          "right after its own phase (lower is better; below 0 means it improved). Distributions are matched "
          "across runs by name.",
          per_distribution_chart(
              runs, "compare-forgetting", "Forgetting per distribution by run", "forgetting (bits per byte)",
              [](const RunData& run) { return run.metrics.forgetting.terms; },
              [](const RunData& run) { return run.metrics.forgetting.value; }),
          false};
}

Figure comparison_new_bpb_figure(const std::vector<RunData>& runs) {
  return {"compare-new-bpb", "New-distribution bits per byte",
          "R[j][j] for every distribution after the base one: its holdout bits per byte right after the phase that "
          "trained on it (lower is better). This is how well each run learns what arrives; a method that avoids "
          "forgetting by not learning would show high bars here.",
          per_distribution_chart(
              runs, "compare-new-bpb", "Bits per byte on each new distribution by run", "bits per byte after its phase",
              [](const RunData& run) { return new_distribution_bpb(run.matrix).terms; },
              [](const RunData& run) { return new_distribution_bpb(run.matrix).mean; }),
          false};
}

}  // namespace grove::experiments::report
