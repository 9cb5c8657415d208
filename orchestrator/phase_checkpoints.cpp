#include "orchestrator/phase_checkpoints.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/errors.h"
#include "common/log.h"
#include "model/checkpoint.h"

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

// Deletes the phase's resumable (periodic and interrupt) checkpoints beyond the newest `keep`, rows and folders.
void prune(RunContext& ctx, const registry::PhaseRow& phase, int64_t keep) {
  auto rows = registry::list_checkpoints(ctx.registry(), ctx.run.id, phase.id);
  std::vector<registry::CheckpointRow> resumable;
  for (auto& row : rows) {
    if (row.kind != registry::CheckpointKind::kPhaseEnd) resumable.push_back(row);
  }
  std::sort(resumable.begin(), resumable.end(),
            [](const auto& a, const auto& b) { return a.step != b.step ? a.step > b.step : a.id > b.id; });
  for (size_t i = static_cast<size_t>(std::max<int64_t>(keep, 0)); i < resumable.size(); ++i) {
    registry::delete_checkpoint(ctx.registry(), resumable[i].id);
    std::error_code ignored;
    fs::remove_all(resumable[i].path, ignored);
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

registry::CheckpointRow save_phase_checkpoint(RunContext& ctx, const registry::PhaseRow& phase,
                                              PhaseTrainingObjects& objects, CheckpointReason reason) {
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
  const auto summary = model::save_checkpoint(dir, *objects.model, extra, objects.state.step, metadata);

  registry::NewCheckpoint row;
  row.run_id = ctx.run.id;
  row.phase_id = phase.id;
  row.step = objects.state.step;
  row.path = fs::absolute(dir).string();
  row.bytes = static_cast<int64_t>(summary.bytes);
  row.xxh3 = summary.xxh3;
  row.kind = kind_of(reason);
  const int64_t id = registry::insert_checkpoint(ctx.registry(), row);
  if (!phase_end) prune(ctx, phase, std::max<int64_t>(ctx.config.training.keep_checkpoints, 1));
  log::debug("checkpoint {} ({} bytes, xxh3 {}) for phase {} step {}", dir.string(), summary.bytes, summary.xxh3,
             phase.idx, objects.state.step);
  registry::CheckpointRow result;
  static_cast<registry::NewCheckpoint&>(result) = row;
  result.id = id;
  return result;
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
  if (!ctx.config.training.keep_finished_phase_checkpoints) prune(ctx, phase, 0);
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
  if (loaded.metadata.config.vocab_size != ctx.model_config.vocab_size) {
    throw CheckpointError(fmt::format("{}: vocabulary {} does not match the run's tokenizer ({})", row.path,
                                      loaded.metadata.config.vocab_size, ctx.model_config.vocab_size));
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

}  // namespace grove::orch
