#include "orchestrator/training_state.h"

#include <fmt/format.h>

#include "common/errors.h"

namespace grove::orch {

nlohmann::json TrainingState::to_json() const {
  return {{"step", step},
          {"total_steps", total_steps},
          {"sampler_seed", sampler_seed},
          {"sampler_cursor", sampler_cursor},
          {"lr_scale", lr_scale},
          {"nan_recoveries", nan_recoveries},
          {"tokens_seen", tokens_seen},
          {"last_loss", last_loss},
          {"format", 1}};
}

TrainingState TrainingState::from_json(const nlohmann::json& json) {
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!json.contains(name)) {
      throw CheckpointError(fmt::format("training state: field '{}' is missing (checkpoint from another version?)", name));
    }
    return json.at(name);
  };
  if (field("format").get<int>() != 1) {
    throw CheckpointError(fmt::format("training state: format {} is not known (expected 1)", json.at("format").dump()));
  }
  TrainingState state;
  state.step = field("step").get<int64_t>();
  state.total_steps = field("total_steps").get<int64_t>();
  state.sampler_seed = field("sampler_seed").get<uint64_t>();
  state.sampler_cursor = field("sampler_cursor").get<int64_t>();
  state.lr_scale = field("lr_scale").get<double>();
  state.nan_recoveries = field("nan_recoveries").get<int64_t>();
  state.tokens_seen = field("tokens_seen").get<int64_t>();
  state.last_loss = field("last_loss").get<double>();
  return state;
}

}  // namespace grove::orch
