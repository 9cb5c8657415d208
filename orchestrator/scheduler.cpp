#include "orchestrator/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "common/errors.h"
#include "common/log.h"
#include "common/strict_yaml.h"
#include "data_streams/corpus_files.h"
#include "data_streams/ingest.h"
#include "data_streams/tokenize.h"
#include "orchestrator/inbox.h"
#include "orchestrator/run_driver.h"
#include "orchestrator/run_setup.h"

namespace grove::orch {
namespace {

// Every run a tick may advance: all but those a failed phase stopped for good. A run that failed on an error (a full
// disk, a file in the way) has intact phases and is tried again, so a night's ticks resume it once the cause is gone.
std::vector<registry::RunRow> active_runs(registry::Database& db, const std::optional<std::string>& only) {
  std::vector<registry::RunRow> runs;
  if (only) {
    runs.push_back(registry::require_run(db, *only));
    return runs;
  }
  for (auto& run : registry::list_runs(db)) {
    const auto phases = registry::list_phases(db, run.id);
    const bool stopped_for_good = std::any_of(phases.begin(), phases.end(), [](const registry::PhaseRow& phase) {
      return phase.status == registry::PhaseStatus::kFailed;
    });
    if (run.status != registry::RunStatus::kFailed || !stopped_for_good) runs.push_back(run);
  }
  return runs;
}

// Where an item may read: the folder it resolves to (inside the inbox: ready_inbox_items refuses an item folder that
// is a symlink to elsewhere) and the roots the operator allows.
std::vector<std::filesystem::path> item_roots(const TickOptions& tick, const InboxItem& item) {
  std::vector<std::filesystem::path> roots{item.real_folder};
  roots.insert(roots.end(), tick.allowed_roots.begin(), tick.allowed_roots.end());
  return roots;
}

// Ingests one inbox item and appends it to each run's timeline (when the run does not have it yet).
void take_inbox_item(registry::Database& db, const TickOptions& tick, const InboxItem& item,
                     const std::vector<registry::RunRow>& runs) {
  if (!item.refusal.empty()) throw DataError(item.refusal);
  const auto roots = item_roots(tick, item);
  std::error_code error;
  const auto spec_real = std::filesystem::canonical(item.spec_file, error);
  if (error) throw DataError(fmt::format("{}: cannot resolve: {}", item.spec_file.string(), error.message()));
  if (std::none_of(roots.begin(), roots.end(), [&](const auto& root) { return data::is_within(spec_real, root); })) {
    throw DataError(fmt::format("{}: resolves to {}, outside the item's folder; an inbox item's spec must be a file "
                                "of its own (or under a folder allowed with `--allow-root DIR`)",
                                item.spec_file.string(), spec_real.string()));
  }
  const auto spec = data::load_distribution_spec(item.spec_file);
  data::validate_distribution_spec(spec, item.spec_file.string());
  data::IngestOptions options;
  options.tokenize = false;
  options.allowed_roots = roots;
  options.require_both_splits = true;  // else every later tick would stop at its phase
  // A run has one phase per distribution name, so new content under a name it trained on would never be trained.
  options.how_to_replace =
      "an inbox item does not replace a distribution: drop it again under a name of its own (a date in it, say), "
      "which the runs then train on as a new phase";
  const auto report = data::ingest_distribution(db, spec, options);
  log::info("inbox {}: {}", item.name, report.summary());
  for (const auto& run : runs) {
    if (!run.tokenizer_id) continue;
    data::ensure_tokenized(db, report.distribution_id, *run.tokenizer_id);
    const auto phases = registry::list_phases(db, run.id);
    bool present = false;
    for (const auto& phase : phases) {
      const auto distribution = registry::find_distribution(db, phase.distribution_id);
      present = present || (distribution && distribution->name == spec.name);
    }
    if (present) continue;
    const auto config = parse_stored_config(run);
    registry::NewPhase phase;
    phase.run_id = run.id;
    phase.idx = static_cast<int64_t>(phases.size());
    phase.distribution_id = report.distribution_id;
    phase.steps_total = config.training.steps;
    registry::create_phase(db, phase);
    log::info("run '{}': phase {} will train '{}'", run.name, phase.idx, spec.name);
  }
}

}  // namespace

TickResult tick_once(const TickOptions& options) {
  TickResult result;
  auto db = registry::Database::open(options.registry, registry::OpenMode::kReadWrite);
  auto runs = active_runs(db, options.run);

  if (options.inbox) {
    for (const auto& item : ready_inbox_items(*options.inbox)) {
      try {
        take_inbox_item(db, options, item, runs);
        archive_inbox_item(*options.inbox, item, /*succeeded=*/true);
        result.ingested += 1;
      } catch (const Error& e) {
        if (e.exit_code() != ExitCode::kBadInput) throw;
        log::error("inbox {}: {} (moved to .failed)", item.name, e.what());
        archive_inbox_item(*options.inbox, item, /*succeeded=*/false, e.what());
        result.failed_items += 1;
      }
    }
  }

  // A run that fails on an error is recorded as failed with the message and the next run gets the tick: one broken
  // run does not hold back the others.
  std::string run_failures;
  int failure_exit_code = 0;
  const auto note_failure = [&](const registry::RunRow& run, const std::exception& error) {
    log::error("run '{}': {}", run.name, error.what());
    run_failures += fmt::format("; run '{}' failed: {}", run.name, error.what());
    if (failure_exit_code == 0) failure_exit_code = exit_code_for(error);
  };
  for (const auto& stale : runs) {
    const auto run = *registry::find_run_by_id(db, stale.id);
    if (!registry::newest_unfinished_phase(db, run.id)) continue;
    std::optional<RunContext> ctx;
    try {
      ctx.emplace(open_existing_run(db, run));
    } catch (const std::exception& error) {
      record_run_failure(db, run.id, std::nullopt, error.what());
      note_failure(run, error);
      continue;
    }
    apply_device_plan(ctx->plan);
    AdvanceResult advanced;
    try {
      advanced = advance_run(*ctx, options.max_phases);
    } catch (const std::exception& error) {  // advance_run recorded it
      note_failure(run, error);
      continue;
    }
    result.phases_run += advanced.phases_run;
    if (advanced.last.result != PhaseResult::kDone) {
      result.exit_code = static_cast<int>(advanced.last.exit_code);
      result.summary = advanced.last.message + run_failures;
      return result;
    }
    break;  // one run's phase per tick
  }
  if (result.phases_run == 0 && result.ingested == 0 && failure_exit_code != 0) {
    const std::string items =
        result.failed_items > 0 ? fmt::format(", {} inbox item(s) failed", result.failed_items) : std::string();
    result.summary = "ran no phase" + items;
  } else if (result.phases_run == 0 && result.ingested == 0) {
    result.summary = result.failed_items > 0 ? fmt::format("{} inbox item(s) failed to ingest; nothing else to do",
                                                           result.failed_items)
                                             : "nothing to do: no ready inbox items and no unfinished phases";
  } else {
    result.summary = fmt::format("ingested {} inbox item(s), ran {} phase(s){}", result.ingested, result.phases_run,
                                 result.failed_items > 0 ? fmt::format(", {} item(s) failed", result.failed_items)
                                                         : std::string());
  }
  if (result.failed_items > 0 && result.exit_code == 0) result.exit_code = static_cast<int>(ExitCode::kBadInput);
  if (failure_exit_code != 0) {
    result.summary += run_failures + " (recorded in the run's events; the next tick tries it again)";
    result.exit_code = failure_exit_code;
  }
  return result;
}

}  // namespace grove::orch
