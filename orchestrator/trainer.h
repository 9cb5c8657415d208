// The training loop of one phase: batches from a seeded, resumable sampler; bf16 autocast on CUDA; language-model
// loss plus the router's auxiliary losses plus (optionally) distillation against a frozen teacher; gradient
// clipping; AdamW over the trainable parameters only; warmup + cosine learning rate. Everything that must survive
// an interruption is in TrainingState. Checkpoints, metrics and progress are observers or callbacks.
// Stop signals are polled at step boundaries: the loop saves an `interrupt` checkpoint and returns kInterrupted.
// A non-finite loss restores the last checkpoint and halves the learning rate; the third time in a row, kFailed.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "data_streams/token_batch.h"
#include "model/moe_transformer.h"
#include "orchestrator/adamw.h"
#include "orchestrator/device_plan.h"
#include "orchestrator/lr_schedule.h"
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
  int64_t checkpoint_every = 100;
  double kd_weight = 0.0;
  double kd_temperature = 2.0;
  int64_t max_nan_recoveries = 3;
  std::vector<int64_t> inject_nan_at_steps;  // fault injection for tests: the loss at these steps becomes NaN once
};

struct TrainerHooks {
  // Writes a checkpoint of the model, the optimizer and the state (and registers it).
  std::function<void(CheckpointReason)> save_checkpoint;
  // Loads the newest checkpoint of this phase into the model, the optimizer and the state.
  std::function<void()> restore_last_checkpoint;
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
  struct StepLosses {
    torch::Tensor total, lm, aux, kd;
  };
  StepLosses forward_backward(const torch::Tensor& inputs, const torch::Tensor& targets, const torch::Tensor& mask);
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
};

}  // namespace grove::orch
