// Everything a phase's training loop needs to continue exactly where it stopped, saved whole with each checkpoint
// (Marian's TrainingState pattern): resume is "load this struct", not a tangle of special cases. The random
// generator's state travels as a tensor in the checkpoint beside the weights; the rest is JSON here.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

namespace grove::orch {

struct TrainingState {
  int64_t step = 0;               // optimizer steps completed in this phase
  int64_t total_steps = 0;        // the phase's planned steps
  uint64_t sampler_seed = 0;      // window/mixture sampler seed for this phase
  int64_t sampler_cursor = 0;     // next sampler index (== step * batches per step)
  double lr_scale = 1.0;          // halved after each non-finite loss recovery
  int64_t nan_recoveries = 0;     // consecutive recoveries without a good checkpoint in between
  int64_t tokens_seen = 0;
  double last_loss = 0.0;
  // The logging window in progress: the steps since the last logged one and their summed losses, as the float32 the
  // loop accumulates them in. Saved so that a run stopped between two logged steps logs, once resumed, the same
  // averages as one that never stopped (a checkpoint of format 1 has none: an empty window).
  int64_t window_steps = 0;
  float window_lm = 0.0f, window_aux = 0.0f, window_kd = 0.0f;

  nlohmann::json to_json() const;
  static TrainingState from_json(const nlohmann::json& json);  // throws CheckpointError naming the missing field
  bool operator==(const TrainingState&) const = default;
};

}  // namespace grove::orch
