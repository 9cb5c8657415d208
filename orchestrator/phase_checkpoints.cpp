#include "orchestrator/phase_checkpoints.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <system_error>

#include "common/errors.h"
#include "common/log.h"
#include "model/abandoned_writes.h"
#include "model/blob_store.h"
#include "model/checkpoint.h"
#include "orchestrator/background_checkpoint_writer.h"
#include "orchestrator/phase_setup.h"
#include "orchestrator/phase_time_account.h"
#include "registry/events.h"

namespace grove::orch {
namespace fs = std::filesystem;
namespace {

constexpr const char* kRngStateTensor = "trainer.rng_state";

fs::path phase_dir(const RunContext& ctx, const registry::PhaseRow& phase) {
  return ctx.run_dir / fmt::format("phase-{}", phase.idx);
}

registry::CheckpointKind kind_of(CheckpointReason reason) {
  switch (reason) {
    case CheckpointReason::kPeriodic: return registry::CheckpointKind::kPeriodic;
    case CheckpointReason::kInterrupt: return registry::CheckpointKind::kInterrupt;
    case CheckpointReason::kPhaseEnd: return registry::CheckpointKind::kPhaseEnd;
  }
  return registry::CheckpointKind::kPeriodic;
}

model::BlobStore run_blobs(const RunContext& ctx) { return model::BlobStore(ctx.run_dir / "blobs"); }

// The run's phase folders (<run_dir>/phase-<i>).
std::vector<fs::path> phase_folders(const RunContext& ctx) {
  std::vector<fs::path> folders;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(ctx.run_dir, error)) {
    std::error_code ignored;
    if (entry.is_directory(ignored) && entry.path().filename().string().starts_with("phase-")) {
      folders.push_back(entry.path());
    }
  }
  return folders;
}

// Deletes the blobs that no checkpoint folder of the run references. Every folder under the phase folders counts,
// registered or not and temporaries of living writers included, so nothing a checkpoint on disk needs goes. When a
// checkpoint's tensors.json cannot be read, nothing is deleted (what it references is unknown).
void remove_unreferenced_blobs(const RunContext& ctx) {
  const model::BlobStore blobs = run_blobs(ctx);
  if (!fs::is_directory(blobs.dir())) return;
  std::set<std::string> referenced;
  for (const auto& folder : phase_folders(ctx)) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(folder, error)) {
      std::error_code ignored;
      if (!entry.is_directory(ignored) || !fs::exists(entry.path() / model::kMetadataFile, ignored)) continue;
      try {
        const auto stored = model::checkpoint_blobs(entry.path());
        if (stored) referenced.insert(stored->blobs.begin(), stored->blobs.end());
      } catch (const CheckpointError& unreadable) {
        log::warn("checkpoints: blobs not pruned: {}", unreadable.what());
        return;
      }
    }
  }
  const uint64_t freed = blobs.remove_unreferenced(referenced);
  if (freed > 0) log::debug("checkpoints: {} bytes of blobs no checkpoint references removed", freed);
}

// Deletes the phase's resumable (periodic and interrupt) checkpoints beyond the newest `keep`, rows and folders, and
// then the blobs only they referenced. The phase-start one (step 0) is kept too when `keep_start`: the phase can
// always fall back to it. A folder another kept row names (written again at the same step) stays.
void prune(RunContext& ctx, const registry::PhaseRow& phase, int64_t keep, bool keep_start) {
  auto rows = registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id);
  std::vector<registry::CheckpointRow> resumable;
  for (auto& row : rows) {
    if (row.kind != registry::CheckpointKind::kPhaseEnd) resumable.push_back(row);
  }
  std::sort(resumable.begin(), resumable.end(),
            [](const auto& a, const auto& b) { return a.step != b.step ? a.step > b.step : a.id > b.id; });
  std::set<std::string> kept_paths;
  std::vector<registry::CheckpointRow> doomed;
  for (size_t i = 0; i < resumable.size(); ++i) {
    const bool kept = i < static_cast<size_t>(std::max<int64_t>(keep, 0)) || (keep_start && resumable[i].step == 0);
    if (kept) {
      kept_paths.insert(resumable[i].path);
    } else {
      doomed.push_back(resumable[i]);
    }
  }
  for (const auto& row : doomed) {
    registry::delete_checkpoint(ctx.registry(), row.id);
    if (kept_paths.contains(row.path)) continue;
    std::error_code ignored;
    fs::remove_all(row.path, ignored);
  }
  if (!doomed.empty()) remove_unreferenced_blobs(ctx);
}

// Deletes the phase's step-<n> folders that no row names: written completely by a process that stopped before it
// recorded them (killed right after the rename, or while a background write finished). Then their blobs.
void remove_unrecorded_checkpoints(RunContext& ctx, const registry::PhaseRow& phase) {
  std::set<fs::path> recorded;
  for (const auto& row : registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id)) recorded.insert(row.path);
  std::vector<fs::path> unrecorded;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(phase_dir(ctx, phase), error)) {
    const std::string name = entry.path().filename().string();
    const bool temporary = model::temporary_writer_pid(name).has_value();
    if (name.starts_with("step-") && !temporary && !recorded.contains(fs::absolute(entry.path()))) {
      unrecorded.push_back(entry.path());
    }
  }
  for (const auto& path : unrecorded) {
    std::error_code ignored;
    fs::remove_all(path, ignored);
    log::info("checkpoints: removed {}, written but never recorded by a process that stopped", path.string());
  }
  if (!unrecorded.empty()) remove_unreferenced_blobs(ctx);
}

// Removes what writers killed mid-checkpoint left (model/abandoned_writes.h) in the run's phase folders and blob
// store, saying so in the log.
void remove_abandoned_writes(const RunContext& ctx) {
  std::vector<fs::path> folders = phase_folders(ctx);
  folders.push_back(run_blobs(ctx).dir());
  for (const auto& folder : folders) {
    for (const auto& removed : model::remove_abandoned_temporaries(folder)) {
      log::info("checkpoints: removed {}, left by a writer that stopped before it finished", removed.string());
    }
  }
}

// Records a durable checkpoint folder: its row (an earlier row of the same folder, written again at the same step,
// goes), then, for a resumable one, the pruning of the phase's older ones.
registry::CheckpointRow record_checkpoint(RunContext& ctx, const registry::PhaseRow& phase, const fs::path& dir,
                                          int64_t step, CheckpointReason reason,
                                          const model::CheckpointSummary& summary) {
  registry::NewCheckpoint row;
  row.run_id = ctx.run.id;
  row.phase_id = phase.id;
  row.step = step;
  row.path = fs::absolute(dir).string();
  row.bytes = static_cast<int64_t>(summary.bytes);
  row.xxh3 = summary.xxh3;
  row.kind = kind_of(reason);
  for (const auto& earlier : registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id)) {
    if (earlier.path == row.path) registry::delete_checkpoint(ctx.registry(), earlier.id);
  }
  const int64_t id = registry::insert_checkpoint(ctx.registry(), row);
  if (reason != CheckpointReason::kPhaseEnd) {
    prune(ctx, phase, std::max<int64_t>(ctx.config.training.keep_checkpoints, 1), /*keep_start=*/true);
  }
  log::debug("checkpoint {} ({} bytes written, {} bytes of tensors, xxh3 {}) for phase {} step {}", dir.string(),
             summary.bytes, summary.tensor_bytes, summary.xxh3, phase.idx, step);
  registry::CheckpointRow result;
  static_cast<registry::NewCheckpoint&>(result) = row;
  result.id = id;
  return result;
}

// Waits for the background write in flight, if any, and records it (its error, if it failed, propagates).
void finish_background_write(RunContext& ctx, const registry::PhaseRow& phase, PhaseTrainingObjects& objects) {
  if (!objects.writer) return;
  if (const auto written = objects.writer->finish()) {
    record_checkpoint(ctx, phase, written->dir, written->step, CheckpointReason::kPeriodic, written->summary);
  }
}

}  // namespace

std::unique_ptr<AdamW> make_optimizer(const RunContext& ctx, model::MoeTransformer& model) {
  AdamWOptions options;
  options.beta1 = ctx.config.training.beta1;
  options.beta2 = ctx.config.training.beta2;
  options.weight_decay = ctx.config.training.weight_decay;
  return std::make_unique<AdamW>(model.named_trainable_parameters(), options);
}

PhaseTrainingObjects::PhaseTrainingObjects(std::shared_ptr<model::MoeTransformer> model_in,
                                           std::unique_ptr<AdamW> optimizer_in, TrainingState state_in,
                                           at::Generator noise_generator_in)
    : model(std::move(model_in)),
      optimizer(std::move(optimizer_in)),
      state(std::move(state_in)),
      noise_generator(std::move(noise_generator_in)),
      writer(std::make_shared<BackgroundCheckpointWriter>()) {}

std::optional<registry::CheckpointRow> save_phase_checkpoint(RunContext& ctx, const registry::PhaseRow& phase,
                                                             PhaseTrainingObjects& objects, CheckpointReason reason) {
  const PhaseTimeAccount::Scope stall(ctx.phase_time, TimeUse::kCheckpoint);
  const auto started = std::chrono::steady_clock::now();
  const auto stalled_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  };
  finish_background_write(ctx, phase, objects);
  const bool phase_end = reason == CheckpointReason::kPhaseEnd;
  const fs::path dir = phase_dir(ctx, phase) / (phase_end ? std::string("final")
                                                          : fmt::format("step-{:07}", objects.state.step));
  fs::create_directories(dir.parent_path());
  std::map<std::string, torch::Tensor> extra;
  if (!phase_end) {
    extra = objects.optimizer->state_tensors();
    extra[kRngStateTensor] = objects.noise_generator.get_state();
  }
  const nlohmann::json metadata = {{"training_state", objects.state.to_json()},
                                   {"run", ctx.run.name},
                                   {"strategy", ctx.strategy.name},
                                   {"phase_idx", phase.idx},
                                   {"reason", std::string(registry::to_text(kind_of(reason)))}};
  remove_abandoned_writes(ctx);
  model::BlobStore blobs = run_blobs(ctx);
  if (reason == CheckpointReason::kPeriodic && objects.state.step > 0 && objects.writer) {
    objects.writer->start(dir, model::snapshot_checkpoint(*objects.model, extra, objects.state.step, metadata),
                          std::move(blobs));
    log::debug("checkpoint {}: training stalled {:.1f} ms (snapshot), written in the background", dir.string(),
               stalled_ms());
    return std::nullopt;
  }
  const auto summary = model::save_checkpoint(dir, *objects.model, extra, objects.state.step, metadata, &blobs);
  auto row = record_checkpoint(ctx, phase, dir, objects.state.step, reason, summary);
  log::debug("checkpoint {}: written and recorded in {:.1f} ms", dir.string(), stalled_ms());
  return row;
}

std::optional<registry::CheckpointRow> newest_phase_checkpoint(RunContext& ctx, const registry::PhaseRow& phase) {
  auto rows = registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id);
  if (rows.empty()) return std::nullopt;
  return *std::max_element(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.step != b.step ? a.step < b.step : a.id < b.id;
  });
}

void prune_finished_phase(RunContext& ctx, const registry::PhaseRow& phase) {
  // A finished phase resumes from its final checkpoint: its resumable ones (the step-0 one right after growth
  // included, with optimizer state) would only fill the disk, phase after phase, as the model grows.
  remove_abandoned_writes(ctx);
  if (!ctx.config.training.keep_finished_phase_checkpoints) prune(ctx, phase, 0, /*keep_start=*/false);
  remove_unrecorded_checkpoints(ctx, phase);
}

registry::CheckpointRow phase_end_checkpoint(RunContext& ctx, const registry::PhaseRow& phase) {
  for (const auto& row : registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id)) {
    if (row.kind == registry::CheckpointKind::kPhaseEnd) return row;
  }
  throw RegistryError(fmt::format("run '{}': phase {} has no phase-end checkpoint", ctx.run.name, phase.idx));
}

std::shared_ptr<model::MoeTransformer> load_model(RunContext& ctx, const registry::CheckpointRow& row) {
  model::LoadOptions options;
  options.device = ctx.plan.device;
  auto loaded = model::load_checkpoint(row.path, options);
  const auto phase = registry::find_phase_by_id(ctx.registry(), row.phase_id);
  if (!phase) throw RegistryError(fmt::format("{}: its phase (#{}) is not in the registry", row.path, row.phase_id));
  const int64_t expected = ctx.phase_vocab_size(phase->idx);
  if (loaded.metadata.config.vocab_size != expected) {
    throw CheckpointError(fmt::format("{}: vocabulary {} does not match phase {}'s tokenizer ({})", row.path,
                                      loaded.metadata.config.vocab_size, phase->idx, expected));
  }
  return loaded.model;
}

void restore_phase_checkpoint(RunContext& ctx, const registry::CheckpointRow& row, PhaseTrainingObjects& objects) {
  model::LoadOptions options;
  options.device = ctx.plan.device;
  auto loaded = model::load_checkpoint_into(row.path, *objects.model, options);
  objects.optimizer->load_state_tensors(loaded.extra_tensors, row.path);
  const auto rng = loaded.extra_tensors.find(kRngStateTensor);
  if (rng == loaded.extra_tensors.end()) {
    throw CheckpointError(fmt::format("{}: '{}' is missing", row.path, kRngStateTensor));
  }
  objects.noise_generator.set_state(rng->second.to(torch::kCPU));
  if (!loaded.metadata.extra.contains("training_state")) {
    throw CheckpointError(fmt::format("{}: metadata has no training_state (not a training checkpoint)", row.path));
  }
  objects.state = TrainingState::from_json(loaded.metadata.extra.at("training_state"));
}

registry::CheckpointRow restore_newest_intact_checkpoint(RunContext& ctx, const registry::PhaseRow& phase,
                                                         PhaseTrainingObjects& objects) {
  finish_background_write(ctx, phase, objects);
  remove_abandoned_writes(ctx);
  auto rows = registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id);
  if (rows.empty()) {
    throw RegistryError(fmt::format("run '{}': phase {} is '{}' but has no checkpoint to resume from", ctx.run.name,
                                    phase.idx, registry::to_text(phase.status)));
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.step != b.step ? a.step > b.step : a.id > b.id; });
  std::vector<std::pair<registry::CheckpointRow, std::string>> skipped;
  for (const auto& row : rows) {
    try {
      if (!objects.model) {
        auto model = load_model(ctx, row);
        model->apply_trainable_policy(phase_trainable_policy(ctx, phase.idx));
        objects.optimizer = make_optimizer(ctx, *model);
        objects.model = std::move(model);
      }
      restore_phase_checkpoint(ctx, row, objects);
    } catch (const CheckpointError& error) {
      skipped.emplace_back(row, error.what());
      continue;
    } catch (const DataError& error) {  // a file that cannot be read
      skipped.emplace_back(row, error.what());
      continue;
    } catch (const fs::filesystem_error& error) {
      skipped.emplace_back(row, error.what());
      continue;
    }
    for (const auto& [bad, why] : skipped) {
      const std::string message = fmt::format("checkpoint {} (step {}) skipped: {}; resuming from {} (step {})",
                                              bad.path, bad.step, why, row.path, row.step);
      log::warn("{}", message);
      registry::record_event(ctx.registry(), {ctx.run.id, phase.id, log::Level::kWarn, "checkpoint_skipped", message});
      registry::delete_checkpoint(ctx.registry(), bad.id);
      std::error_code ignored;
      if (bad.path != row.path) fs::remove_all(bad.path, ignored);
    }
    if (!skipped.empty()) remove_unreferenced_blobs(ctx);
    return row;
  }
  std::string reasons;
  for (const auto& [bad, why] : skipped) reasons += fmt::format("\n  {} (step {}): {}", bad.path, bad.step, why);
  throw CheckpointError(fmt::format("run '{}': phase {} has no intact checkpoint to resume from; every one failed to "
                                    "load (left in place):{}",
                                    ctx.run.name, phase.idx, reasons));
}

}  // namespace grove::orch
