#include "experiments/report/markdown_report.h"

#include <fmt/format.h>

#include "experiments/report/across_seeds.h"
#include "experiments/report/comparison_figures.h"
#include "experiments/report/seed_statistics.h"
#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace {

std::string run_heading(const RunData& run) {
  return fmt::format("Run {} ({})", escape_markdown(run.run.name), escape_markdown(run.run.strategy));
}

void section(std::string& out, const std::string& title, const std::string& intro, const TextTable& table,
             const std::string& empty_text, const std::string& link_target = "") {
  out += fmt::format("### {}\n\n", title);
  if (!intro.empty()) out += intro + "\n\n";
  out += table.rows.empty() ? empty_text + "\n\n" : markdown_table(table, link_target) + "\n";
}

}  // namespace

std::string markdown_table(const TextTable& table, const std::string& link_target) {
  std::string out = "|";
  for (const auto& h : table.header) out += fmt::format(" {} |", escape_markdown(h));
  out += "\n|";
  for (size_t c = 0; c < table.header.size(); ++c) {
    out += c < table.numeric.size() && table.numeric[c] ? "---:|" : "---|";
  }
  out += "\n";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    out += "|";
    for (size_t c = 0; c < table.rows[r].size(); ++c) {
      std::string cell = escape_markdown(table.rows[r][c]);
      const bool linked = c == 0 && r < table.row_links.size() && !table.row_links[r].empty() && !link_target.empty();
      if (linked) cell = fmt::format("[{}]({}#definitions)", cell, link_target);
      out += fmt::format(" {} |", cell);
    }
    out += "\n";
  }
  return out;
}

std::string markdown_report(const std::vector<RunData>& runs, const ReportContext& context) {
  std::string out = "# Grove forgetting report\n\n";
  std::string names;
  for (const auto& run : runs) names += fmt::format("{}**{}**", names.empty() ? "" : ", ", escape_markdown(run_label(run)));
  out += fmt::format("Runs: {}. Generated {} by grove {} from {}.\n\n", names, context.generated_at,
                     context.grove_version, escape_markdown(context.registry));
  out += fmt::format(
      "All values are holdout **bits per byte** (bpb; lower is better). R[i][j] is distribution j's bpb after phase "
      "i; T is the last phase. Definitions: [{0}]({0}#definitions) and the end of this file. Charts of the same data "
      "are in `report.html`; the numbers are also in `metrics.json` and `evals.csv`.\n\n",
      context.metrics_doc);

  if (runs.size() > 1) {
    out += "## Comparison\n\n" + markdown_table(comparison_table(runs)) + "\n";
    out += "Forgetting is the mean over earlier distributions of R[T][j] − R[j][j]; new-distribution bpb is the mean "
           "of R[j][j] over the distributions after the base one.\n\n";
  }
  if (const AcrossSeeds across = across_seeds(runs); has_repeated_seeds(across)) {
    out += "## Across seeds\n\n";
    out += fmt::format("{}\n\n", escape_markdown(kAcrossSeedsIntro));
    out += markdown_table(across_seeds_table(across)) + "\n";
    out += fmt::format("Rule: {}.\n\n", escape_markdown(kSpreadRule));
    for (const auto& line : across_seeds_verdicts(across)) out += fmt::format("- {}\n", escape_markdown(line));
    out += "\n";
  }

  for (const auto& run : runs) {
    out += fmt::format("## {}\n\n", run_heading(run));
    out += fmt::format("Status {}, {} phases, seed {}, created {} by grove {}.\n\n",
                       registry::to_text(run.run.status), run.phases.size(), run.run.seed, run.run.created_at,
                       escape_markdown(run.run.grove_version));
    if (const std::string settings = strategy_settings(run); !settings.empty()) {
      out += fmt::format("Strategy as trained: {}.\n\n", escape_markdown(settings));
    }
    section(out, "Phases and growth decisions", "", decisions_table(run), "No phases recorded.");
    section(out, "Forgetting matrix", "Rows: the model (untrained, then after each phase); columns: the distribution "
            "evaluated. n/a: not evaluated.", matrix_table(run), "No evaluations recorded.");
    section(out, "Metrics", "Per-distribution terms follow the value; – means the distribution is outside the "
            "metric's range, n/a that a cell it needs is missing.", metrics_table(run), "", context.metrics_doc);
    const std::string routing_intro =
        run.routing_phase ? fmt::format("Routing after {}: the experts each distribution's tokens go to.",
                                        escape_markdown(run.phase_label(*run.routing_phase)))
                          : "";
    section(out, "Expert utilisation", routing_intro, routing_table(run), "No routing statistics recorded.");
    section(out, "Routing specialisation", escape_markdown(routing_specialisation_intro(run)),
            routing_specialisation_table(routing_specialisation(run)), "No routing statistics recorded.");
    section(out, "Parameters", "", parameters_table(run), "No phases recorded.");
    section(out, "Where the time went",
            "Each phase's wall time in seconds, and its goodput: training tokens per second of wall time.",
            time_table(run), "No phases recorded.");
    section(out, "Expert lineage", "", lineage_table(run), "No experts recorded.");
    section(out, "Training", "", training_table(run), "No phases recorded.");
  }

  out += "## Definitions\n\n";
  for (const auto& d : metric_definitions()) {
    out += fmt::format("- **{}** = {}. {}\n", escape_markdown(d.name), escape_markdown(d.formula),
                       escape_markdown(d.meaning));
  }
  out += fmt::format("\nMissing cells are skipped and counted, never read as 0; see [{0}]({0}#missing-cells).\n",
                     context.metrics_doc);
  return out;
}

}  // namespace grove::experiments::report
