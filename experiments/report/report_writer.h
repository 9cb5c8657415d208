// `grove report` as a library call: loads the named runs from the registry, renders report.md, report.html,
// metrics.json and evals.csv, and publishes them as one folder atomically (written in a temporary folder beside
// the target, fsynced, then renamed over it), so a failure never leaves a half-written report and a reader sees
// the old report or the new one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "experiments/report/report_context.h"
#include "registry/database.h"

namespace grove::experiments::report {

// The files a report folder holds; the only files `write_report` agrees to replace.
inline const std::vector<std::string> kReportFiles = {"report.md", "report.html", "metrics.json", "evals.csv"};

struct ReportRequest {
  std::vector<std::string> runs;  // run names, in the order the report shows them; at least one
  std::filesystem::path out_dir;
  ReportContext context;          // generated_at and grove_version are filled in when empty
};

// Writes the report. Bad input (exit 2): no run, a run named twice, a run that does not exist (the message names
// it and lists the runs that do), an --out path that is a file, or a folder holding files other than a report's
// (never deleted). Returns the folder written (absolute).
std::filesystem::path write_report(registry::Database& db, const ReportRequest& request);

}  // namespace grove::experiments::report
