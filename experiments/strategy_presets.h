// Strategy presets: the named recipes a run follows at each new distribution (DESIGN.md, "Strategies").
//   grove         grow (novelty), freeze old experts and all shared weights, train the gate and the new experts
//   lifelong_moe  grow (always), freeze old experts and old gate rows, shared weights trainable, distillation (KD)
//   finetune      no growth, everything trainable
//   replay        finetune plus a share of earlier distributions' data in every batch
//   joint         no growth, retrain on the union of all distributions seen so far (the upper bound)
// Plain data: the orchestrator maps it onto its growth and trainable policies; reports print the descriptions.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace grove::experiments {

struct StrategyPreset {
  std::string name;
  std::string growth;          // always | never | novelty
  std::string experts;         // newest (older groups frozen) | all
  std::string gate;            // new_rows | all | frozen
  std::string shared;          // frozen | trainable
  double kd_weight = 0.0;      // λ of the distillation term against the previous phase's model
  double kd_temperature = 2.0;
  double replay_share = 0.0;   // fraction of each batch drawn from earlier distributions
  bool joint = false;          // train on the union of seen distributions
  std::string description;     // one line for help and reports
};

const std::vector<StrategyPreset>& strategy_presets();

// The preset named `name`, or nullopt.
std::optional<StrategyPreset> find_strategy_preset(const std::string& name);

// "grove, lifelong_moe, finetune, replay, joint" for error messages.
std::string strategy_names();

}  // namespace grove::experiments
