#include "orchestrator/phase_observers.h"

#include <fmt/format.h>

#include "common/log.h"

namespace grove::orch {

void RegistryObserver::on_log(const StepMetrics& metrics) {
  registry::TrainMetricRow row;
  row.run_id = ctx_.run.id;
  row.phase_id = phase_id_;
  row.step = metrics.step;
  row.loss = metrics.loss;
  row.aux_loss = metrics.aux_loss;
  row.kd_loss = metrics.kd_loss;
  row.lr = metrics.lr;
  row.grad_norm = metrics.grad_norm;
  row.tokens_per_s = metrics.tokens_per_s;
  registry::record_train_metrics(ctx_.registry(), {row});
  registry::set_phase_progress(ctx_.registry(), phase_id_, metrics.step);
}

void RegistryObserver::on_recovery(int64_t step, double new_lr_scale, const char* why) {
  registry::NewEvent event;
  event.run_id = ctx_.run.id;
  event.phase_id = phase_id_;
  event.level = log::Level::kWarn;
  event.kind = "nan_recovery";
  event.message = fmt::format("{}; restored the checkpoint at step {} and halved the learning rate (scale {})", why,
                              step, new_lr_scale);
  registry::record_event(ctx_.registry(), event);
}

void RegistryObserver::on_finish(TrainOutcome outcome, int64_t step) {
  (void)outcome;
  registry::set_phase_progress(ctx_.registry(), phase_id_, step);
}

ProgressObserver::ProgressObserver(const std::string& label, int64_t first_step, int64_t total_steps) {
  ProgressOptions options;
  options.label = label;
  options.total = static_cast<uint64_t>(total_steps);
  options.unit = ProgressUnit::kCount;
  options.count_name = "steps";
  meter_ = std::make_unique<ProgressMeter>(options);
  meter_->update(static_cast<uint64_t>(first_step));
}

void ProgressObserver::on_log(const StepMetrics& metrics) {
  meter_->update(static_cast<uint64_t>(metrics.step),
                 fmt::format("loss {:.4f}, {:.0f} tok/s, lr {:.2e}", metrics.loss, metrics.tokens_per_s, metrics.lr));
}

void ProgressObserver::on_finish(TrainOutcome outcome, int64_t step) {
  const char* what = outcome == TrainOutcome::kCompleted ? "done" : outcome == TrainOutcome::kInterrupted
                                                                        ? "interrupted"
                                                                        : "failed";
  meter_->finish(fmt::format("{} at step {}", what, step));
}

}  // namespace grove::orch
