// The training observers a phase attaches: registry rows (train_metrics, progress, events) and the progress display.
#pragma once

#include <memory>
#include <vector>

#include "common/progress.h"
#include "orchestrator/run_context.h"
#include "orchestrator/training_observer.h"

namespace grove::orch {

// Writes a train_metrics row at every logged step, events for recoveries, and the phase's steps_done: the newest
// logged step while training, the step training stopped at when it ends (an interrupted phase's steps_done is its
// interrupt checkpoint's step, whether or not that step was logged).
class RegistryObserver : public TrainingObserver {
 public:
  RegistryObserver(RunContext& ctx, int64_t phase_id) : ctx_(ctx), phase_id_(phase_id) {}
  void on_log(const StepMetrics& metrics) override;
  void on_recovery(int64_t step, double new_lr_scale, const char* why) override;
  void on_finish(TrainOutcome outcome, int64_t step) override;

 private:
  RunContext& ctx_;
  int64_t phase_id_;
};

// A live line on a terminal (step/total, loss, tokens/s, ETA), plain periodic log lines otherwise.
class ProgressObserver : public TrainingObserver {
 public:
  ProgressObserver(const std::string& label, int64_t first_step, int64_t total_steps);
  void on_log(const StepMetrics& metrics) override;
  void on_finish(TrainOutcome outcome, int64_t step) override;

 private:
  std::unique_ptr<ProgressMeter> meter_;
};

}  // namespace grove::orch
