#include "orchestrator/training_state.h"

#include <fmt/format.h>

#include <limits>

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
          {"log_window", {{"steps", window_steps}, {"lm", window_lm}, {"aux", window_aux}, {"kd", window_kd}}},
          {"format", 2}};
}

TrainingState TrainingState::from_json(const nlohmann::json& json) {
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!json.contains(name)) {
      throw CheckpointError(fmt::format("training state: field '{}' is missing (checkpoint from another version?)", name));
    }
    return json.at(name);
  };
  const int format = field("format").get<int>();
  if (format != 1 && format != 2) {
    throw CheckpointError(
        fmt::format("training state: format {} is not known (expected 1 or 2)", json.at("format").dump()));
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
  if (format >= 2) {  // format 1 predates the saved logging window: it resumes with an empty one
    const auto& window = field("log_window");
    auto part = [&](const char* name) -> const nlohmann::json& {
      if (!window.is_object() || !window.contains(name)) {
        throw CheckpointError(fmt::format("training state: field 'log_window.{}' is missing", name));
      }
      return window.at(name);
    };
    // JSON has no NaN: a window that met a non-finite loss is written as null.
    auto sum = [&](const char* name) {
      const auto& value = part(name);
      return value.is_null() ? std::numeric_limits<float>::quiet_NaN() : value.get<float>();
    };
    state.window_steps = part("steps").get<int64_t>();
    state.window_lm = sum("lm");
    state.window_aux = sum("aux");
    state.window_kd = sum("kd");
  }
  return state;
}

}  // namespace grove::orch
