// `grove eval --run NAME`: evaluate a run's model (the last finished phase's, or --phase N) on the holdout of every
// timeline distribution (or --distribution NAME…) and print bits per byte, loss and perplexity; --record stores
// the numbers as that phase's 'after' evaluations (e.g. after changing evaluation.max_tokens).
#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <optional>

#include "common/errors.h"
#include "common/shell_word.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/output_format.h"
#include "orchestrator/cli/registry_command.h"
#include "orchestrator/evaluator.h"
#include "orchestrator/phase_checkpoints.h"
#include "orchestrator/phase_evaluation.h"
#include "orchestrator/run_setup.h"

namespace grove::cli {
namespace {

struct EvalArgs {
  std::string registry;
  std::string run;
  std::optional<int64_t> phase;
  std::vector<std::string> distributions;
  std::optional<int64_t> max_tokens;
  bool record = false;
  std::string format = "table";
};

int evaluate_run(const EvalArgs& args) {
  const auto format = parse_output_format(args.format);
  const auto path = resolve_registry_path(args.registry);
  auto db = registry::Database::open(path, args.record ? registry::OpenMode::kReadWrite : registry::OpenMode::kReadOnly);
  const auto run = registry::require_run(db, args.run);
  auto ctx = orch::open_existing_run(db, run);
  orch::apply_device_plan(ctx.plan);
  if (args.max_tokens) ctx.config.evaluation.max_tokens = *args.max_tokens;

  std::optional<registry::PhaseRow> phase;
  for (const auto& row : registry::list_phases(db, run.id)) {
    if (args.phase ? row.idx == *args.phase : row.status == registry::PhaseStatus::kDone) phase = row;
  }
  if (!phase) {
    throw ConfigError(args.phase ? fmt::format("run '{}' has no phase {}", run.name, *args.phase)
                                 : fmt::format("run '{}' has no finished phase to evaluate yet", run.name));
  }
  // A phase in evaluation has its phase-end checkpoint already; one still training or pending does not.
  if (phase->status == registry::PhaseStatus::kFailed) {
    throw ConfigError(fmt::format("run '{}': phase {} failed, so it has no model to evaluate; see `grove registry "
                                  "phases --run {}` and its events, or give an earlier --phase",
                                  run.name, phase->idx, shell_word(run.name)));
  }
  if (phase->status != registry::PhaseStatus::kDone && phase->status != registry::PhaseStatus::kEvaluating) {
    throw ConfigError(fmt::format("run '{}': phase {} is not finished (status {}), so it has no model to evaluate "
                                  "yet; `grove run` resumes it, or give an earlier --phase",
                                  run.name, phase->idx, registry::to_text(phase->status)));
  }
  auto model = orch::load_model(ctx, orch::phase_end_checkpoint(ctx, *phase));

  std::vector<registry::DistributionRow> targets;
  for (const auto& row : ctx.timeline_distributions()) {
    bool wanted = args.distributions.empty();
    for (const auto& name : args.distributions) wanted = wanted || name == row.name;
    if (wanted) targets.push_back(row);
  }
  for (const auto& name : args.distributions) {
    bool found = false;
    for (const auto& row : targets) found = found || row.name == name;
    if (!found) throw ConfigError(fmt::format("--distribution {}: not in run '{}''s timeline", name, run.name));
  }

  Table table({{"distribution"}, {"bpb"}, {"loss"}, {"ppl"}, {"tokens"}, {"bytes"}});
  std::vector<orch::EvalResult> results;
  if (args.record) {
    results = orch::evaluate_and_record(ctx, *model, *phase, registry::EvalStage::kAfter, targets, true);
  } else {
    for (const auto& distribution : targets) {
      results.push_back(orch::evaluate_holdout(*model, ctx.shard(distribution.id, registry::Split::kHoldout),
                                               orch::eval_settings(ctx), ctx.plan));
    }
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& r = results[i];
    table.add_row({targets[i].name, r.bpb, r.loss, r.ppl, r.targets, r.bytes});
  }
  if (format == OutputFormat::kTable) {
    fmt::print("run '{}', model after phase {} ({} parameters, {} active per token)\n", run.name, phase->idx,
               model->parameter_count(), model->active_parameters_per_token());
  }
  fmt::print("{}", render(table, format));
  return 0;
}

}  // namespace

Command eval_command() {
  return {"eval", "Evaluate a run's model on the holdout of its distributions (bits per byte, loss, perplexity)",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<EvalArgs>();
            app.add_option("--run", args->run, "Run name")->required();
            app.add_option("--registry", args->registry, "Registry file (default $GROVE_REGISTRY, then ./grove.db)");
            app.add_option("--phase", args->phase, "Model after this phase (default: the last finished one)");
            app.add_option("--distribution", args->distributions, "Only these distributions (repeatable)");
            app.add_option("--max-tokens", args->max_tokens, "Holdout tokens per distribution (default: the run's)")
                ->check([](const std::string& text) -> std::string {
                  int64_t value = 0;
                  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
                  if (error == std::errc() && end == text.data() + text.size() && value > 0) return {};
                  return "expected a whole number of tokens above 0, got '" + text + "'";
                });
            app.add_flag("--record", args->record, "Store the results as the phase's evaluations");
            app.add_option("--format", args->format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
            return [args] { return evaluate_run(*args); };
          }};
}

}  // namespace grove::cli
