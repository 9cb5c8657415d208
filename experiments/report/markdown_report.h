// report.md: the report as Markdown tables (figures are in report.html), readable in a terminal, a pull request or
// a wiki. Same content as the HTML: comparison first when there are several runs, then each run's detail.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/report_context.h"
#include "experiments/report/report_tables.h"
#include "experiments/report/run_data.h"

namespace grove::experiments::report {

std::string markdown_report(const std::vector<RunData>& runs, const ReportContext& context);

// A GitHub-flavoured Markdown table; cells escaped, first cells linked to `link_target + "#definitions"` where the
// table names a metric.
std::string markdown_table(const TextTable& table, const std::string& link_target = "");

}  // namespace grove::experiments::report
