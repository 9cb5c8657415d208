// `grove demo`: the embedded default experiment (experiments/demo.yaml) on Debian-packaged corpora — English and
// German fortunes, the Python documentation, Russian fortunes — under the grove, finetune and replay strategies,
// then the forgetting report and a summary table. Resumes if interrupted; a finished demo just rewrites the report.
#include <fmt/format.h>

#include <memory>

#include "common/errors.h"
#include "common/log.h"
#include "experiments/embedded_experiments.h"
#include "experiments/report/report_writer.h"
#include "experiments/report/run_data.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/experiment_runner.h"
#include "registry/registry.h"

namespace grove::cli {
namespace {

struct DemoArgs {
  std::string out = "grove-demo";
  std::vector<std::string> strategies;
  std::vector<std::string> set;
};

std::string cell(const std::optional<double>& value) { return value ? fmt::format("{:.4f}", *value) : "n/a"; }

int run_demo(const DemoArgs& args) {
  const std::filesystem::path out = std::filesystem::absolute(args.out);
  std::error_code error;
  if (std::filesystem::exists(out, error) && !std::filesystem::is_directory(out, error)) {
    throw ConfigError(fmt::format("demo: --out {} exists and is not a folder; give a folder (new or an earlier "
                                  "demo's) for the registry, checkpoints and report",
                                  out.string()));
  }
  std::filesystem::create_directories(out);
  orch::ConfigOverrides overrides;
  overrides.strategies = args.strategies;
  overrides.set = args.set;
  const auto config = orch::parse_experiment(std::string(experiments::demo_experiment_yaml()),
                                             "<embedded demo.yaml>", out, overrides);
  orch::ExperimentRunOptions options;
  options.command = "grove demo";
  const auto outcome = orch::run_experiment(config, options);
  if (outcome.exit_code != 0) {
    fmt::print(stderr, "grove: {}\n", outcome.message);
    return outcome.exit_code;
  }

  auto db = registry::Database::open(config.registry, registry::OpenMode::kReadOnly);
  experiments::report::ReportRequest request;
  request.runs = outcome.run_names;
  request.out_dir = out / "report";
  const auto report_dir = experiments::report::write_report(db, request);

  fmt::print("\nReport: {}/report.html (also report.md, metrics.json, evals.csv)\n\n", report_dir.string());
  fmt::print("{:<14} {:>9} {:>9} {:>16} {:>18}\n", "strategy", "ACC", "BWT", "mean forgetting", "new-dist bpb");
  for (const auto& name : outcome.run_names) {
    const auto data = experiments::report::load_run_data(db, name);
    const auto fresh = experiments::report::new_distribution_bpb(data.matrix);
    fmt::print("{:<14} {:>9} {:>9} {:>16} {:>18}\n", data.run.strategy, cell(data.metrics.acc.value),
               cell(data.metrics.bwt.value), cell(data.metrics.forgetting.value), cell(fresh.mean));
  }
  fmt::print("(bits per byte on the holdouts, lower is better; forgetting > 0 means worse than right after training)\n");
  return 0;
}

}  // namespace

Command demo_command() {
  return {"demo", "Run the embedded demo experiment on Debian-packaged corpora and write its forgetting report",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<DemoArgs>();
            app.add_option("--out", args->out, "Folder for the registry, checkpoints and report (default ./grove-demo)");
            app.add_option("--strategy", args->strategies, "Only these strategies (repeatable; default grove, finetune, replay)");
            app.add_option("--set", args->set, "Override a demo config value, e.g. --set training.steps=50");
            return [args] { return run_demo(*args); };
          }};
}

}  // namespace grove::cli
