// Observers of the training loop (Marian's TrainingObserver pattern): checkpointing, registry metric rows, the
// progress display and the stop-signal check watch the trainer; the trainer knows none of them.
#pragma once

#include <cstdint>

namespace grove::orch {

// Numbers of one logged step (read back from the device at log steps only).
struct StepMetrics {
  int64_t step = 0;          // steps completed
  int64_t total_steps = 0;
  double loss = 0;           // language-model cross-entropy, nats per token
  double aux_loss = 0;       // router load-balancing + z-loss (weighted)
  double kd_loss = 0;        // distillation term (unweighted), 0 without a teacher
  double lr = 0;
  double grad_norm = 0;      // before clipping
  double tokens_per_s = 0;   // since the previous logged step
  int64_t tokens_seen = 0;
};

enum class TrainOutcome { kCompleted, kInterrupted, kFailed };

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_log(const StepMetrics& metrics) { (void)metrics; }
  virtual void on_checkpoint(int64_t step) { (void)step; }
  virtual void on_recovery(int64_t step, double new_lr_scale, const char* why) {
    (void)step, (void)new_lr_scale, (void)why;
  }
  virtual void on_finish(TrainOutcome outcome, int64_t step) { (void)outcome, (void)step; }
};

}  // namespace grove::orch
