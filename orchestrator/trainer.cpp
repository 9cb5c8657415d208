#include "orchestrator/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/log.h"
#include "common/stop_flag.h"
#include "data_streams/batch_iterator.h"
#include "orchestrator/stop_signal.h"
#include "orchestrator/training_loss.h"

namespace grove::orch {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Trainer::Trainer(std::shared_ptr<model::MoeTransformer> model, std::shared_ptr<model::MoeTransformer> teacher,
                 AdamW& optimizer, data::BatchSource batches, TrainerSettings settings, DevicePlan plan,
                 TrainingState& state, TrainerHooks hooks, at::Generator noise_generator)
    : model_(std::move(model)),
      teacher_(std::move(teacher)),
      optimizer_(optimizer),
      batches_(std::move(batches)),
      settings_(std::move(settings)),
      plan_(plan),
      state_(state),
      hooks_(std::move(hooks)),
      noise_generator_(std::move(noise_generator)),
      trainable_(model_->trainable_parameters()) {
  if (!settings_.clock) settings_.clock = steady_seconds;
  if (settings_.cuda_graphs && plan_.device.is_cuda()) {
    const std::string why_not = why_not_captured();
    capture_possible_ = capture_wanted_ = why_not.empty();
    if (!capture_possible_) log::info("training: steps run eagerly, not as a CUDA graph: {}", why_not);
  }
}

std::string Trainer::why_not_captured() const {
  if (!settings_.cuda_graphs) return "training.cuda_graphs is off";
  if (!settings_.inject_nan_at_steps.empty()) return "NaN injection (a test) is on";
  return CapturedStep::why_not(*model_, plan_.device, plan_.bf16_autocast);
}

TrainingLoss Trainer::compute_gradients(const torch::Tensor& tokens, const torch::Tensor& mask) {
  if (captured_ && !captured_->fits(tokens, mask)) {
    log::info("training: a batch of another shape ({} tokens) than the captured step's; eager steps from here",
              c10::str(tokens.sizes()));
    release_graph();
    capture_possible_ = capture_wanted_ = false;
  }
  if (!captured_ && capture_wanted_) {
    capture_wanted_ = false;  // one attempt (again after a recovery)
    try {
      captured_ = std::make_unique<CapturedStep>(
          [&](const torch::Tensor& step_tokens, const torch::Tensor& step_mask) {
            optimizer_.zero_grad();
            return forward_backward(step_tokens, step_mask);
          },
          tokens, mask);
      log::info("training: forward + loss + backward captured as a CUDA graph; replayed every step");
    } catch (const std::exception& error) {
      log::warn("training: steps run eagerly: {}", error.what());
      release_graph();
      capture_possible_ = false;  // not again after a recovery either: the work itself cannot be captured
    }
  }
  return captured_ ? captured_->replay(tokens, mask) : forward_backward(tokens, mask);
}

void Trainer::release_graph() {
  captured_.reset();
  optimizer_.zero_grad();
}

TrainingLoss Trainer::forward_backward(const torch::Tensor& tokens, const torch::Tensor& mask) {
  TrainingLossOptions options;
  options.bf16_autocast = plan_.bf16_autocast;
  options.kd_weight = settings_.kd_weight;
  options.kd_temperature = settings_.kd_temperature;
  options.noise_generator = noise_generator_;
  options.isolation = settings_.isolation;
  options.isolation_weight = settings_.isolation_weight;
  options.rehearsal_rows = settings_.rehearsal_rows;
  options.rehearsal_weight = settings_.rehearsal_weight;
  const torch::Tensor inputs = tokens.slice(1, 0, tokens.size(1) - 1), targets = tokens.slice(1, 1, tokens.size(1));
  TrainingLoss losses = training_loss(*model_, teacher_.get(), inputs, targets, mask, options);
  for (const int64_t bad_step : settings_.inject_nan_at_steps) {
    if (bad_step == state_.step) {
      losses.total = losses.total * std::numeric_limits<float>::quiet_NaN();
      losses.lm = losses.lm * std::numeric_limits<float>::quiet_NaN();
      settings_.inject_nan_at_steps.erase(
          std::find(settings_.inject_nan_at_steps.begin(), settings_.inject_nan_at_steps.end(), bad_step));
      break;
    }
  }
  losses.total.backward();
  return losses;
}

bool Trainer::handle_non_finite(const char* why) {
  state_.nan_recoveries += 1;
  if (state_.nan_recoveries >= settings_.max_nan_recoveries) {
    log::error("training: {} at step {} for the {}th time in a row; giving up on this phase", why, state_.step,
               state_.nan_recoveries);
    return false;
  }
  const int64_t recoveries = state_.nan_recoveries;
  const double new_scale = state_.lr_scale * 0.5;
  release_graph();  // the restore may replace what the graph reads; capture again at the next step
  capture_wanted_ = capture_possible_;
  hooks_.restore_last_checkpoint();  // resets the state to the checkpoint's
  state_.nan_recoveries = recoveries;
  state_.lr_scale = new_scale;
  optimizer_.zero_grad();
  for (auto* observer : observers_) observer->on_recovery(state_.step, state_.lr_scale, why);
  log::warn("training: {}; restored the checkpoint at step {} and halved the learning rate (scale {})", why,
            state_.step, state_.lr_scale);
  return true;
}

TrainOutcome Trainer::run() {
  model_->train();
  if (teacher_) teacher_->eval();
  const auto device = plan_.device;
  auto interval_start = std::chrono::steady_clock::now();
  int64_t interval_tokens = 0;

  auto make_iterator = [&] {
    return std::make_unique<data::BatchIterator>(batches_, static_cast<uint64_t>(state_.step), /*queue_depth=*/4);
  };
  auto iterator = make_iterator();
  // The logging window's sums live on the device (no sync per step); TrainingState carries them across a checkpoint,
  // so a run stopped between two logged steps and resumed logs what an uninterrupted one logs.
  const auto sum_options = torch::TensorOptions().dtype(torch::kFloat).device(device);
  torch::Tensor lm_sum, aux_sum, kd_sum;
  int64_t interval_steps = 0;
  auto load_window = [&] {  // from state_: the phase's start, the checkpoint resumed from, or one restored
    lm_sum = torch::full({}, state_.window_lm, sum_options);
    aux_sum = torch::full({}, state_.window_aux, sum_options);
    kd_sum = torch::full({}, state_.window_kd, sum_options);
    interval_steps = state_.window_steps;
  };
  auto save_checkpoint = [&](CheckpointReason reason) {  // with the window so far in state_
    state_.window_steps = interval_steps;
    state_.window_lm = lm_sum.item<float>();
    state_.window_aux = aux_sum.item<float>();
    state_.window_kd = kd_sum.item<float>();
    hooks_.save_checkpoint(reason);
  };
  load_window();
  torch::Tensor grad_norm;
  double last_checkpoint_at = settings_.clock();  // the step-0 or resume checkpoint this run starts from
  const double checkpoint_interval_s = settings_.checkpoint_every_minutes * 60.0;

  while (state_.step < state_.total_steps) {
    if (stop_requested()) {
      release_graph();
      save_checkpoint(CheckpointReason::kInterrupt);
      for (auto* observer : observers_) observer->on_finish(TrainOutcome::kInterrupted, state_.step);
      return TrainOutcome::kInterrupted;
    }
    auto batch = iterator->next();
    if (!batch) throw std::logic_error("trainer: the training sampler ran out of batches");
    // A copy from pageable memory would make the host wait for the device; from pinned memory it stays queued.
    auto upload = [&](const torch::Tensor& host) {
      return (device.is_cuda() ? host.pin_memory() : host).to(device, /*non_blocking=*/true);
    };
    const auto tokens = upload(batch->tokens);
    const auto mask = upload(batch->mask);

    const double lr = settings_.schedule.at(state_.step) * state_.lr_scale;
    const TrainingLoss losses = compute_gradients(tokens, mask);
    if (hooks_.before_step) hooks_.before_step();
    grad_norm = optimizer_.clip_and_step(lr, settings_.grad_clip);
    if (hooks_.after_step) hooks_.after_step();
    if (!captured_) optimizer_.zero_grad();  // a captured step resets them itself: they belong to its graph

    {
      torch::NoGradGuard no_grad;
      lm_sum += losses.lm.detach();
      aux_sum += losses.aux.detach();
      kd_sum += losses.kd.detach();
    }
    state_.step += 1;
    state_.sampler_cursor = state_.step;
    const int64_t step_tokens = mask.numel();
    state_.tokens_seen += step_tokens;
    interval_tokens += step_tokens;
    interval_steps += 1;

    const bool last = state_.step == state_.total_steps;
    if (state_.step % settings_.log_every == 0 || last) {
      StepMetrics metrics;
      metrics.step = state_.step;
      metrics.total_steps = state_.total_steps;
      metrics.loss = lm_sum.item<double>() / static_cast<double>(interval_steps);
      metrics.aux_loss = aux_sum.item<double>() / static_cast<double>(interval_steps);
      metrics.kd_loss = kd_sum.item<double>() / static_cast<double>(interval_steps);
      metrics.grad_norm = grad_norm.item<double>();
      metrics.lr = lr;
      metrics.tokens_per_s = static_cast<double>(interval_tokens) / std::max(1e-9, seconds_since(interval_start));
      metrics.tokens_seen = state_.tokens_seen;
      lm_sum.zero_();
      aux_sum.zero_();
      kd_sum.zero_();
      interval_steps = 0;
      state_.window_steps = 0;
      state_.window_lm = state_.window_aux = state_.window_kd = 0.0f;
      interval_tokens = 0;
      interval_start = std::chrono::steady_clock::now();
      if (!std::isfinite(metrics.loss) || !std::isfinite(metrics.grad_norm)) {
        if (!handle_non_finite("the loss became non-finite")) {
          release_graph();
          for (auto* observer : observers_) observer->on_finish(TrainOutcome::kFailed, state_.step);
          return TrainOutcome::kFailed;
        }
        iterator = make_iterator();
        load_window();  // the restored checkpoint's
        continue;
      }
      state_.last_loss = metrics.loss;
      for (auto* observer : observers_) observer->on_log(metrics);
    }
    const bool due_by_steps = settings_.checkpoint_every > 0 && state_.step % settings_.checkpoint_every == 0;
    const bool due_by_time =
        checkpoint_interval_s > 0 && settings_.clock() - last_checkpoint_at >= checkpoint_interval_s;
    if (!last && (due_by_steps || due_by_time)) {
      last_checkpoint_at = settings_.clock();
      save_checkpoint(CheckpointReason::kPeriodic);
      state_.nan_recoveries = 0;  // a clean checkpoint ends a run of recoveries
      for (auto* observer : observers_) observer->on_checkpoint(state_.step);
    }
    if (stop_test_points_on()) stop_test_point(fmt::format("step:{}", state_.step));
  }
  release_graph();  // frees the graph's memory before the phase's evaluation
  for (auto* observer : observers_) observer->on_finish(TrainOutcome::kCompleted, state_.step);
  return TrainOutcome::kCompleted;
}

}  // namespace grove::orch
