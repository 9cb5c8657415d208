// report.html: one self-contained page (inline CSS and SVG; no scripts, fonts or other files, nothing fetched
// from the network) with, for several runs, a comparison section first, then per run: headline metrics, the
// forgetting matrix and its change, bits per byte across phases, metrics with per-distribution terms, growth
// decisions, expert utilisation, lineage, parameters and training curves. Every value drawn is also in a tooltip
// or a table.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/figure.h"
#include "experiments/report/report_context.h"
#include "experiments/report/report_tables.h"
#include "experiments/report/run_data.h"

namespace grove::experiments::report {

std::string html_report(const std::vector<RunData>& runs, const ReportContext& context);

// A <table> with escaped cells; numeric columns right-aligned; first cells of metric rows link to the page's
// definitions. Wrapped so wide tables scroll instead of widening the page.
std::string html_table(const TextTable& table);

// <figure> with its title, SVG and caption.
std::string html_figure(const Figure& figure);

}  // namespace grove::experiments::report
