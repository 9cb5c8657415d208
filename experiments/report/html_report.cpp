#include "experiments/report/html_report.h"

#include <fmt/format.h>

#include "experiments/report/across_seeds.h"
#include "experiments/report/comparison_figures.h"
#include "experiments/report/html_style.h"
#include "experiments/report/number_format.h"
#include "experiments/report/run_figures.h"
#include "experiments/report/seed_statistics.h"
#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace {

std::string esc(std::string_view text) { return escape_xml(text); }

std::string grid(const std::vector<Figure>& figures) {
  if (figures.empty()) return "";
  std::string out = "<div class=\"grid\">\n";
  for (const auto& f : figures) out += html_figure(f);
  return out + "</div>\n";
}

// The figures with their table folded under them, or a note when there is no figure.
std::string figures_with_table(const std::vector<Figure>& figures, const std::string& none, const std::string& summary,
                               const TextTable& table) {
  if (figures.empty()) return "<p class=\"note\">" + esc(none) + "</p>\n";
  return grid(figures) + "<details><summary>" + esc(summary) + "</summary>\n" + html_table(table) + "</details>\n";
}

std::string card(const std::string& key, const std::string& label, const std::string& value, const std::string& hint) {
  return fmt::format(
      "<div class=\"card\"><div class=\"label\"><a href=\"#def-{}\">{}</a></div><div class=\"value\">{}</div>"
      "<div class=\"hint\">{}</div></div>\n",
      key, esc(label), esc(value), esc(hint));
}

std::string cards(const RunData& run) {
  const auto& m = run.metrics;
  std::string out = "<div class=\"cards\">\n";
  out += card("acc", "ACC", format_fixed(m.acc.value, 3), "final mean bpb · lower is better");
  out += card("bwt", "BWT", format_signed(m.bwt.value, 3), "negative: forgetting");
  out += card("fwt", "FWT", format_signed(m.fwt.value, 3), "positive: earlier phases helped");
  out += card("forgetting", "mean forgetting", format_signed(m.forgetting.value, 3), "positive: forgetting");
  out += card("max_forgetting", "mean max-forgetting", format_signed(m.max_forgetting.value, 3),
              "vs the best it ever was");
  out += card("new_bpb", "new-distribution bpb", format_fixed(new_distribution_bpb(run.matrix).mean, 3),
              "right after its phase · lower is better");
  return out + "</div>\n";
}

std::string run_section(const RunData& run, size_t index, const ReportContext& context) {
  const std::string prefix = fmt::format("run{}", index);
  const std::string status(registry::to_text(run.run.status));
  std::string out = fmt::format("<section class=\"block run\" id=\"{}\">\n", prefix);
  out += fmt::format("<h2>Run <span class=\"name\">{}</span><span class=\"badge\">{}</span>"
                     "<span class=\"badge {}\">{}</span></h2>\n",
                     esc(run.run.name), esc(run.run.strategy), status, status);
  out += fmt::format("<p class=\"lead\">{} phases · seed {} · created {} by grove {}</p>\n", run.phases.size(),
                     run.run.seed, esc(run.run.created_at), esc(run.run.grove_version));
  if (const std::string settings = strategy_settings(run); !settings.empty()) {
    out += "<p class=\"note\">Strategy as trained: " + esc(settings) + ".</p>\n";
  }
  out += cards(run);

  out += "<h3>Forgetting</h3>\n";
  out += grid({forgetting_matrix_figure(run, prefix), forgetting_change_figure(run, prefix)});
  out += grid({bpb_across_phases_figure(run, prefix)});

  out += "<h3>Metrics</h3>\n<p class=\"note\">Each value is followed by its per-distribution terms (– outside the "
         "metric's range, n/a where a cell it needs is missing: missing cells are skipped, never read as 0). "
         "Definitions below and in <a href=\"" + esc(context.metrics_doc) + "#definitions\">" +
         esc(context.metrics_doc) + "</a>.</p>\n";
  out += html_table(metrics_table(run));

  out += "<h3>Phases and growth decisions</h3>\n" + html_table(decisions_table(run));

  out += "<h3>Expert utilisation</h3>\n";
  out += figures_with_table(routing_figures(run, prefix), "No routing statistics were recorded for this run.",
                            "Top experts per distribution (table)", routing_table(run));
  out += "<h3>Routing specialisation</h3>\n";
  if (const RoutingSpecialisation spec = routing_specialisation(run); spec.layers.empty()) {
    out += "<p class=\"note\">No routing statistics were recorded for this run.</p>\n";
  } else {
    out += "<p class=\"note\">" + esc(routing_specialisation_intro(run)) + "</p>\n";
    out += html_table(routing_specialisation_table(spec));
  }
  out += "<h3>Expert lineage</h3>\n";
  out += figures_with_table(lineage_figures(run, prefix), "No experts were recorded for this run.",
                            "Every expert (table)", lineage_table(run));

  out += "<h3>Parameters</h3>\n";
  out += grid({parameters_figure(run, prefix)});
  out += html_table(parameters_table(run));

  out += "<h3>Where the time went</h3>\n";
  out += grid({time_split_figure(run, prefix)});
  out += html_table(time_table(run));

  out += "<h3>Training</h3>\n";
  out += grid(training_figures(run, prefix));
  out += html_table(training_table(run));
  return out + "</section>\n";
}

std::string comparison_section(const std::vector<RunData>& runs) {
  std::string out = "<section class=\"block\" id=\"comparison\">\n<h2>Comparison</h2>\n";
  out += "<p class=\"lead\">The runs side by side. Forgetting should be near 0 for a method that keeps old "
         "knowledge, while its new-distribution bits per byte stay close to fine-tuning's.</p>\n";
  out += html_table(comparison_table(runs));
  out += grid({comparison_metrics_figure(runs), comparison_forgetting_figure(runs), comparison_new_bpb_figure(runs)});
  return out + "</section>\n";
}

std::string across_seeds_section(const AcrossSeeds& across) {
  std::string out = "<section class=\"block\" id=\"across-seeds\">\n<h2>Across seeds</h2>\n";
  out += "<p class=\"lead\">" + esc(kAcrossSeedsIntro) + "</p>\n";
  out += html_table(across_seeds_table(across));
  out += "<p class=\"note\">Rule: " + esc(kSpreadRule) + ".</p>\n<ul class=\"verdicts\">\n";
  for (const auto& line : across_seeds_verdicts(across)) out += "<li>" + esc(line) + "</li>\n";
  return out + "</ul>\n</section>\n";
}

std::string definitions_section(const ReportContext& context) {
  std::string out = "<section class=\"block\" id=\"definitions\">\n<h2>Definitions</h2>\n";
  out += "<p class=\"lead\">R[i][j] is the holdout bits per byte of distribution j (the one phase j introduced) "
         "after phase i; R_init is the untrained model; T is the last phase. Bits per byte is loss-like: lower is "
         "better. As in <a href=\"" + esc(context.metrics_doc) + "#definitions\">" + esc(context.metrics_doc) +
         "</a>.</p>\n<dl class=\"definitions\">\n";
  for (const auto& d : metric_definitions()) {
    out += fmt::format("<dt id=\"def-{}\">{}</dt><dd><span class=\"formula\">{}</span> — {}</dd>\n", d.key,
                       esc(d.name), esc(d.formula), esc(d.meaning));
  }
  out += "</dl>\n<p class=\"note\">A term that needs a missing cell is skipped and counted; a metric with no term "
         "left is n/a. Missing values are drawn hatched grey with “n/a”, never as 0.</p>\n";
  return out + "</section>\n";
}

}  // namespace

std::string html_figure(const Figure& figure) {
  return fmt::format("<figure id=\"fig-{}\"{}>\n<div class=\"title\">{}</div>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                     esc(figure.id), figure.wide ? " class=\"wide\"" : "", esc(figure.title), figure.svg,
                     esc(figure.caption));
}

std::string html_table(const TextTable& table) {
  std::string out = "<div class=\"table-wrap\"><table>\n<thead><tr>";
  auto numeric = [&](size_t c) { return c < table.numeric.size() && table.numeric[c]; };
  for (size_t c = 0; c < table.header.size(); ++c) {
    out += fmt::format("<th{}>{}</th>", numeric(c) ? " class=\"num\"" : "", esc(table.header[c]));
  }
  out += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    out += "<tr>";
    for (size_t c = 0; c < table.rows[r].size(); ++c) {
      const std::string& cell = table.rows[r][c];
      std::string classes = numeric(c) ? "num" : "";
      if (cell == kMissing || cell == "–" || cell == kNoGrowth) classes += classes.empty() ? "na" : " na";
      if (table.header[c] == "reason") classes = "reason";
      std::string content = esc(cell);
      if (c == 0 && r < table.row_links.size() && !table.row_links[r].empty()) {
        content = fmt::format("<a href=\"#def-{}\">{}</a>", esc(table.row_links[r]), content);
      }
      out += fmt::format("<td{}>{}</td>", classes.empty() ? "" : " class=\"" + classes + "\"", content);
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string html_report(const std::vector<RunData>& runs, const ReportContext& context) {
  std::string names;
  for (const auto& run : runs) names += (names.empty() ? "" : ", ") + run.run.name;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>Grove report: {}</title>\n<style>{}</style>\n</head>\n<body>\n", esc(names), report_css());
  out += fmt::format("<header class=\"page\"><h1>Grove forgetting report</h1>\n<p>{}</p>\n"
                     "<p>Generated {} by grove {} from {} · holdout bits per byte, lower is better</p></header>\n",
                     esc(names), esc(context.generated_at), esc(context.grove_version), esc(context.registry));
  out += "<nav class=\"toc\">";
  if (runs.size() > 1) out += "<a href=\"#comparison\">Comparison</a>";
  const AcrossSeeds across = across_seeds(runs);
  const bool seeds_section = has_repeated_seeds(across);
  if (seeds_section) out += "<a href=\"#across-seeds\">Across seeds</a>";
  for (size_t i = 0; i < runs.size(); ++i) {
    out += fmt::format("<a href=\"#run{}\">{}</a>", i, esc(run_label(runs[i])));
  }
  out += "<a href=\"#definitions\">Definitions</a></nav>\n<main>\n";
  if (runs.size() > 1) out += comparison_section(runs);
  if (seeds_section) out += across_seeds_section(across);
  for (size_t i = 0; i < runs.size(); ++i) out += run_section(runs[i], i, context);
  out += definitions_section(context);
  out += "</main>\n<footer>Grove · report.md, metrics.json and evals.csv beside this file hold the same numbers."
         "</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace grove::experiments::report
