#include "orchestrator/phase_runner.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"
#include "common/shell_word.h"
#include "data_streams/mixture_sampler.h"
#include "data_streams/window_sampler.h"
#include "orchestrator/generated_rehearsal.h"
#include "orchestrator/phase_checkpoints.h"
#include "orchestrator/phase_constraints.h"
#include "orchestrator/phase_evaluation.h"
#include "orchestrator/phase_observers.h"
#include "orchestrator/phase_setup.h"
#include "orchestrator/phase_time_recorder.h"
#include "orchestrator/phase_vocabulary.h"
#include "orchestrator/seeds.h"
#include "orchestrator/stop_signal.h"
#include "orchestrator/trainer.h"
#include "registry/phase_parameters.h"

namespace grove::orch {
namespace {

void record_event(RunContext& ctx, const registry::PhaseRow& phase, log::Level level, const std::string& kind,
                  const std::string& message) {
  registry::NewEvent event;
  event.run_id = ctx.run.id;
  event.phase_id = phase.id;
  event.level = level;
  event.kind = kind;
  event.message = message;
  registry::record_event(ctx.registry(), event);
}

int64_t phase_steps(const RunContext& ctx, const registry::PhaseRow& phase) {
  return phase.idx == 0 && ctx.config.training.base_steps ? *ctx.config.training.base_steps
                                                          : ctx.config.training.steps;
}

// The `rows` data rows of a phase's batches: its own distribution, a replay mixture, or the union of everything seen
// (joint).
data::BatchSource phase_batches(RunContext& ctx, const registry::PhaseRow& phase, uint64_t seed, int64_t rows) {
  const int64_t width = ctx.config.training.seq_len + 1;
  std::vector<registry::PhaseRow> earlier;
  for (const auto& p : registry::list_phases(ctx.registry(), ctx.run.id)) {
    if (p.idx < phase.idx && p.distribution_id != phase.distribution_id) earlier.push_back(p);
  }
  const auto current = ctx.shard(phase.distribution_id, registry::Split::kTrain);
  if ((ctx.strategy.joint || ctx.strategy.replay_share > 0) && !earlier.empty()) {
    std::vector<data::MixtureComponent> components;
    const double n_earlier = static_cast<double>(earlier.size());
    const double own = ctx.strategy.joint ? 1.0 / (n_earlier + 1.0) : 1.0 - ctx.strategy.replay_share;
    const double each = ctx.strategy.joint ? own : ctx.strategy.replay_share / n_earlier;
    components.push_back({current, own});
    for (const auto& p : earlier) components.push_back({ctx.shard(p.distribution_id, registry::Split::kTrain), each});
    auto sampler = std::make_shared<data::MixtureSampler>(components, width, seed);
    return [sampler, rows](uint64_t index) -> std::optional<data::TokenBatch> { return sampler->batch(index, rows); };
  }
  auto sampler = std::make_shared<data::WindowSampler>(current, width, seed);
  return [sampler, rows](uint64_t index) -> std::optional<data::TokenBatch> { return sampler->batch(index, rows); };
}

TrainerSettings trainer_settings(const RunContext& ctx, int64_t total_steps) {
  TrainerSettings settings;
  settings.batch_size = ctx.config.training.batch_size;
  settings.seq_len = ctx.config.training.seq_len;
  settings.schedule.peak = ctx.config.training.lr;
  settings.schedule.warmup_steps = std::min(ctx.config.training.warmup_steps, total_steps);
  settings.schedule.total_steps = total_steps;
  settings.schedule.min_ratio = ctx.config.training.min_lr_ratio;
  settings.grad_clip = ctx.config.training.grad_clip;
  settings.log_every = ctx.config.training.log_every;
  settings.checkpoint_every = ctx.config.training.checkpoint_every;
  settings.checkpoint_every_minutes = ctx.config.training.checkpoint_every_minutes;
  settings.kd_weight = ctx.strategy.kd_weight;
  settings.cuda_graphs = ctx.config.training.cuda_graphs;
  settings.kd_temperature = ctx.strategy.kd_temperature;
  settings.inject_nan_at_steps = ctx.inject_nan_at_steps;
  return settings;
}

registry::PhaseRow reload(RunContext& ctx, const registry::PhaseRow& phase) {
  return *registry::find_phase_by_id(ctx.registry(), phase.id);
}

// Evaluates the phase-end model on every timeline distribution, records its parameter counts (the phase-end model's,
// the numbers true for the phase however it got here) and its time split, closes the phase and logs its goodput.
// `train_tokens`: the phase's training tokens (0 when resuming an evaluation: the row has them).
void finish_phase(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model,
                  PhaseTimeRecorder& times, int64_t train_tokens, const std::string& label) {
  if (strategy_uses_sketches(ctx)) {
    try {
      write_phase_sketch(ctx, phase, model);
    } catch (const std::exception& error) {  // later phases measure it again from the final checkpoint
      log::warn("phase {}: its distribution's sketch could not be written: {}", phase.idx, error.what());
      record_event(ctx, phase, log::Level::kWarn, "sketch_failed", error.what());
    }
  }
  const auto timeline = ctx.timeline_distributions();
  log::info("phase {}: evaluating on {} distributions", phase.idx, timeline.size());
  evaluate_and_record(ctx, model, phase, registry::EvalStage::kAfter, timeline, /*record_routing=*/true);
  registry::Transaction close(ctx.registry());
  registry::set_phase_parameters(ctx.registry(), phase.id, model.parameter_count(),
                                 model.active_parameters_per_token());
  times.record(train_tokens);
  registry::transition_phase(ctx.registry(), phase.id, registry::PhaseStatus::kDone);
  close.commit();
  times.log_goodput(label);
  record_event(ctx, phase, log::Level::kInfo, "phase_done",
               fmt::format("phase {} done: {} parameters, {} active per token", phase.idx, model.parameter_count(),
                           model.active_parameters_per_token()));
}

}  // namespace

PhaseOutcome run_phase(RunContext& ctx, const registry::PhaseRow& phase_in) {
  auto& db = ctx.registry();
  registry::PhaseRow phase = phase_in;
  const auto distribution = registry::find_distribution(db, phase.distribution_id);
  const std::string label = fmt::format("{} phase {} ({})", ctx.run.name, phase.idx, distribution->name);

  if (phase.status == registry::PhaseStatus::kDone) return {};
  if (phase.status == registry::PhaseStatus::kFailed) {
    return {PhaseResult::kFailed, ExitCode::kRuntime,
            fmt::format("{} failed earlier; see `grove registry phases --run {}` and its events", label,
                        shell_word(ctx.run.name))};
  }
  ctx.enter_phase(phase.idx);  // the tokenizer and vocabulary this phase has so far
  PhaseTimeRecorder times(ctx, phase.id);  // setup from here
  if (phase.status == registry::PhaseStatus::kEvaluating) {
    log::info("{}: resuming evaluation", label);
    prune_finished_phase(ctx, phase);  // a crash may have come between the move to evaluating and the pruning
    auto model = load_model(ctx, phase_end_checkpoint(ctx, phase));
    finish_phase(ctx, phase, *model, times, 0, label);
    return {};
  }

  PhaseTrainingObjects objects{nullptr, nullptr, TrainingState{},
                               at::detail::createCPUGenerator(derive_seed(ctx.config.seed, phase.idx, "noise"))};
  const int64_t total_steps = phase_steps(ctx, phase);
  PhaseConstraints constraints;
  if (phase.status == registry::PhaseStatus::kPending) {
    log::info("{}: starting ({} steps, strategy {})", label, total_steps, ctx.strategy.name);
    const auto grown_tokenizer = prepare_phase_tokenizer(ctx, phase);  // before the transaction: it tokenizes
    // One transaction from the first 'before' eval to the step-0 checkpoint row and the move to training: a crash
    // in between leaves the phase pending with nothing recorded, and the next attempt starts it cleanly.
    registry::Transaction start(db);
    objects.model = prepare_phase_model(ctx, phase);
    if (grown_tokenizer) {
      adopt_phase_tokenizer(ctx, phase, *grown_tokenizer, *objects.model);
      objects.model->apply_trainable_policy(phase_trainable_policy(ctx, phase.idx));  // the new rows may train
    }
    objects.optimizer = make_optimizer(ctx, *objects.model);
    constraints = phase_constraints(ctx, reload(ctx, phase), *objects.model);  // refused before anything commits
    objects.state.total_steps = total_steps;
    objects.state.sampler_seed = derive_seed(ctx.config.seed, phase.idx, "sampler");
    save_phase_checkpoint(ctx, phase, objects, CheckpointReason::kPeriodic);  // step 0: resume point before step 1
    registry::transition_phase(db, phase.id, registry::PhaseStatus::kTraining);
    record_event(ctx, phase, log::Level::kInfo, "phase_started", label);
    start.commit();
  } else {
    const auto checkpoint = restore_newest_intact_checkpoint(ctx, phase, objects);
    constraints = phase_constraints(ctx, phase, *objects.model);
    if (phase.status == registry::PhaseStatus::kInterrupted) {
      registry::transition_phase(db, phase.id, registry::PhaseStatus::kTraining);
    }
    log::info("{}: resuming at step {} of {} from {}", label, objects.state.step, objects.state.total_steps,
              checkpoint.path);
    record_event(ctx, phase, log::Level::kInfo, "resumed",
                 fmt::format("resumed at step {} from {}", objects.state.step, checkpoint.path));
  }
  phase = reload(ctx, phase);
  auto teacher = load_teacher(ctx, phase);
  if (teacher) grow_to_phase_vocabulary(ctx, phase, *teacher);  // it reads the phase's token ids
  // Generated rehearsal: a pool of about two uses per window, written before the CUDA generator is seeded below
  // (generating draws from it, reading a pool written earlier does not).
  int64_t rehearsal = rehearsal_rows(ctx.config.training.batch_size, ctx.strategy.rehearsal_share);
  torch::Tensor pool;
  if (teacher && rehearsal > 0) {
    pool = phase_rehearsal_pool(ctx, phase, *teacher,
                                std::clamp<int64_t>(objects.state.total_steps * rehearsal / 2, 32, 256));
  }
  if (!pool.defined()) rehearsal = 0;
  if (ctx.plan.device.is_cuda()) torch::cuda::manual_seed_all(derive_seed(ctx.config.seed, phase.idx, "cuda-noise"));

  TrainerHooks hooks;
  if (constraints.any()) hooks.before_step = [&] { constraints.before_step(); };
  // Setup lasts until the first step is done (its warm-up and CUDA graph capture included); training from there.
  bool first_step = true;
  hooks.after_step = [&] {
    if (constraints.any()) constraints.after_step();
    if (first_step) times.account().switch_to(TimeUse::kTraining);
    first_step = false;
  };
  hooks.save_checkpoint = [&](CheckpointReason reason) {
    save_phase_checkpoint(ctx, phase, objects, reason);
    if (reason == CheckpointReason::kPeriodic) times.record(objects.state.tokens_seen);
  };
  hooks.restore_last_checkpoint = [&] { restore_newest_intact_checkpoint(ctx, phase, objects); };
  TrainerSettings settings = trainer_settings(ctx, objects.state.total_steps);
  settings.isolation = constraints.isolation.get();
  settings.isolation_weight = ctx.strategy.isolation_weight;
  settings.rehearsal_rows = rehearsal;
  // With a rehearsal pool, the last `rehearsal` rows of each batch come from it.
  data::BatchSource batches = phase_batches(ctx, phase, objects.state.sampler_seed,
                                            ctx.config.training.batch_size - rehearsal);
  if (pool.defined()) batches = with_rehearsal_rows(std::move(batches), pool, rehearsal);
  settings.rehearsal_weight = ctx.strategy.rehearsal_weight;
  Trainer trainer(objects.model, teacher, *objects.optimizer,
                  batches, settings,
                  ctx.plan, objects.state, hooks, objects.noise_generator);
  RegistryObserver registry_observer(ctx, phase.id);
  ProgressObserver progress_observer(label, objects.state.step, objects.state.total_steps);
  trainer.add_observer(&registry_observer);
  trainer.add_observer(&progress_observer);

  const TrainOutcome outcome = trainer.run();
  times.account().switch_to(TimeUse::kOther);
  if (constraints.isolation) {
    log::info(
        "{}: {:.1f}% of the earlier distributions' sampled router inputs have an expert of group {} in their "
        "top-{}",
        label, 100.0 * constraints.isolation->leaked_share(*objects.model), constraints.isolation->group(),
        ctx.model_config.top_k);
  }
  if (outcome == TrainOutcome::kInterrupted) {
    registry::transition_phase(db, phase.id, registry::PhaseStatus::kInterrupted);
    times.record(objects.state.tokens_seen);
    record_event(ctx, phase, log::Level::kWarn, "interrupted",
                 fmt::format("stopped by a signal at step {}; checkpoint written", objects.state.step));
    return {PhaseResult::kInterrupted, stop_exit_code(),
            fmt::format("{} interrupted at step {} of {}; run the same command again to resume", label,
                        objects.state.step, objects.state.total_steps)};
  }
  if (outcome == TrainOutcome::kFailed) {
    registry::transition_phase(db, phase.id, registry::PhaseStatus::kFailed);
    times.record(objects.state.tokens_seen);
    const std::string message =
        fmt::format("{} failed: the loss became non-finite {} times in a row despite restoring the last checkpoint "
                    "and halving the learning rate (now ×{}); lower training.lr or check the data",
                    label, objects.state.nan_recoveries, objects.state.lr_scale);
    record_event(ctx, phase, log::Level::kError, "failed", message);
    return {PhaseResult::kFailed, ExitCode::kRuntime, message};
  }

  {
    // The final checkpoint's row and the move to evaluating in one transaction: a phase still 'training' never has
    // a final checkpoint (it would be the newest, and it holds no optimizer state to resume from).
    registry::Transaction finish(db);
    save_phase_checkpoint(ctx, phase, objects, CheckpointReason::kPhaseEnd);
    registry::transition_phase(db, phase.id, registry::PhaseStatus::kEvaluating);
    finish.commit();
  }
  prune_finished_phase(ctx, phase);
  finish_phase(ctx, reload(ctx, phase), *objects.model, times, objects.state.tokens_seen, label);
  return {};
}

}  // namespace grove::orch
