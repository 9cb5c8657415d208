// `grove report --run NAME… --out DIR`: the forgetting-evaluation report of one or more runs (report.md,
// report.html, metrics.json, evals.csv), read from the registry opened read-only. The work is in
// experiments/report/report_writer.h; this file parses the options.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "experiments/report/report_writer.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/registry_command.h"
#include "registry/database.h"

namespace grove::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out;
  std::string registry;
  std::string metrics_doc = "docs/METRICS.md";
};

int run_report(const ReportArgs& args) {
  const auto path = resolve_registry_path(args.registry);
  auto db = registry::Database::open(path, registry::OpenMode::kReadOnly);
  experiments::report::ReportRequest request;
  request.runs = args.runs;
  request.out_dir = args.out;
  request.context.registry = path.string();
  request.context.metrics_doc = args.metrics_doc;
  const auto written = experiments::report::write_report(db, request);
  fmt::print("{}/report.html\n", written.string());
  return static_cast<int>(ExitCode::kSuccess);
}

}  // namespace

Command report_command() {
  return {"report", "Write a forgetting report of one or more runs: report.md, report.html, metrics.json, evals.csv",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<ReportArgs>();
            app.footer(
                "Several runs (e.g. strategies on one timeline) get a side-by-side comparison first, and runs that "
                "differ only by seed a summary across seeds. The folder is written atomically: a failure leaves the "
                "previous report, never half of one. Prints the path of report.html.");
            app.add_option("--run", args->runs, "Run name; repeat or list several to compare them")
                ->required()
                ->expected(1, -1);
            app.add_option("--out", args->out, "Folder to write (created; an earlier report there is replaced)")
                ->required();
            app.add_option("--registry", args->registry,
                           "Registry file (default: $GROVE_REGISTRY, then ./grove.db); opened read-only");
            app.add_option("--metrics-doc", args->metrics_doc,
                           "Where the reports link the metric definitions (default: docs/METRICS.md)");
            return [args]() { return run_report(*args); };
          }};
}

}  // namespace grove::cli
