// The training loop of one phase: batches from a seeded, resumable sampler; bf16 autocast on CUDA; language-model
// loss plus the router's auxiliary losses plus (optionally) distillation against a frozen teacher; gradient
// clipping; AdamW over the trainable parameters only; warmup + cosine learning rate. Everything that must survive
// an interruption is in TrainingState. Checkpoints, metrics and progress are observers or callbacks.
// Stop signals are polled at step boundaries: the loop saves an `interrupt` checkpoint and returns kInterrupted.
// A non-finite loss restores the last checkpoint and halves the learning rate; the third time in a row, kFailed.
// With settings.cuda_graphs on CUDA, the first step captures forward + loss + backward as a CUDA graph and every
// step with the same batch shape replays it (the optimizer always runs eagerly); a batch of another shape or a
// failed capture falls back to eager steps, and after a recovery the next step captures again.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "data_streams/token_batch.h"
#include "model/moe_transformer.h"
#include "orchestrator/adamw.h"
#include "orchestrator/captured_step.h"
#include "orchestrator/device_plan.h"
#include "orchestrator/lr_schedule.h"
#include "orchestrator/training_loss.h"
#include "orchestrator/training_observer.h"
#include "orchestrator/training_state.h"

namespace grove::orch {

enum class CheckpointReason { kPeriodic, kInterrupt, kPhaseEnd };

struct TrainerSettings {
  int64_t batch_size = 16;
  int64_t seq_len = 128;
  LrSchedule schedule;
  double grad_clip = 1.0;
  int64_t log_every = 10;
  int64_t checkpoint_every = 100;  // steps between periodic checkpoints; 0: none by step count
  // Also a periodic checkpoint once this many minutes passed since the last one was taken (the phase's start or
  // resume counts as one); 0: none by time. Read from `clock`.
  double checkpoint_every_minutes = 0.0;
  // Seconds on a monotonic clock (steady_clock when empty); tests pass one they advance themselves.
  std::function<double()> clock;
  double kd_weight = 0.0;
  double kd_temperature = 2.0;
  int64_t max_nan_recoveries = 3;
  std::vector<int64_t> inject_nan_at_steps;  // fault injection for tests: the loss at these steps becomes NaN once
  // Capture forward + loss + backward as a CUDA graph and replay it (orchestrator/captured_step.h) where that is
  // possible (CapturedStep::why_not); otherwise, or when capture fails, every step runs eagerly.
  bool cuda_graphs = false;
  // The routing-isolation loss and its weight (orchestrator/routing_isolation.h); off when null.
  const RoutingIsolation* isolation = nullptr;
  double isolation_weight = 0.0;
  // The batches' last rows that are generated rehearsal, and their distillation weight (TrainingLossOptions).
  int64_t rehearsal_rows = 0;
  double rehearsal_weight = 1.0;
};

struct TrainerHooks {
  // Writes a checkpoint of the model, the optimizer and the state (and registers it).
  std::function<void(CheckpointReason)> save_checkpoint;
  // Loads the newest checkpoint of this phase into the model, the optimizer and the state.
  std::function<void()> restore_last_checkpoint;
  // Around each optimizer step, when set: after the gradients exist (before clipping), and after the update.
  std::function<void()> before_step;
  std::function<void()> after_step;
};

class Trainer {
 public:
  Trainer(std::shared_ptr<model::MoeTransformer> model, std::shared_ptr<model::MoeTransformer> teacher, AdamW& optimizer,
          data::BatchSource batches, TrainerSettings settings, DevicePlan plan, TrainingState& state,
          TrainerHooks hooks, at::Generator noise_generator);

  void add_observer(TrainingObserver* observer) { observers_.push_back(observer); }

  // Trains from state.step to state.total_steps. Does not write the phase-end checkpoint (the caller does).
  TrainOutcome run();

 private:
  // The step's loss (training_loss on inputs tokens[:, :-1], targets tokens[:, 1:]) and its backward, eagerly.
  TrainingLoss forward_backward(const torch::Tensor& tokens, const torch::Tensor& mask);
  // One step's forward + backward from the uploaded batch: replayed from the captured graph when there is one that
  // fits, captured first when capture is still wanted, eager otherwise.
  TrainingLoss compute_gradients(const torch::Tensor& tokens, const torch::Tensor& mask);
  // Drops the captured graph (if any) and the gradients it owned: eager steps from here.
  void release_graph();
  // Why steps cannot be captured as a CUDA graph here ("" when they can).
  std::string why_not_captured() const;
  bool handle_non_finite(const char* why);

  std::shared_ptr<model::MoeTransformer> model_;
  std::shared_ptr<model::MoeTransformer> teacher_;
  AdamW& optimizer_;
  data::BatchSource batches_;
  TrainerSettings settings_;
  DevicePlan plan_;
  TrainingState& state_;
  TrainerHooks hooks_;
  at::Generator noise_generator_;
  std::vector<TrainingObserver*> observers_;
  std::vector<torch::Tensor> trainable_;
  bool capture_possible_ = false;  // on CUDA, allowed, and not yet found to fail or to meet another batch shape
  bool capture_wanted_ = false;    // capture at the next step (once; again after a recovery if still possible)
  std::unique_ptr<CapturedStep> captured_;
};

}  // namespace grove::orch
