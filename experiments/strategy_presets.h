// Strategy presets: the named recipes a run follows at each new distribution (DESIGN.md, "Strategies").
//   grove         grow (novelty), freeze old experts and old gate rows; train the new experts, their gate rows and
//                 the shared weights (a phase that does not grow trains the experts and gate rows of its most
//                 similar earlier distribution instead: orchestrator/phase_groups.h) under routing isolation
//                 (orchestrator/routing_isolation.h) and generated
//                 rehearsal (orchestrator/generated_rehearsal.h: a quarter of each batch written by the previous
//                 phase's model for the earlier distributions, distilled towards it); no replay, no stored data
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
  std::string experts;         // newest (one group trains, the others are frozen: the group a phase grew, or
                               // without growth the most similar earlier distribution's) | all
  std::string gate;            // new_rows | all | frozen
  std::string shared;          // frozen | trainable | new_tokens (frozen but the embedding and LM-head rows of
                               // tokens no earlier distribution used) | orthogonal (new_tokens, plus q/k/v and LM
                               // head updates projected off the earlier distributions' input directions)
  double kd_weight = 0.0;      // λ of the distillation term against the previous phase's model
  double kd_temperature = 2.0;
  double replay_share = 0.0;   // fraction of each batch drawn from earlier distributions
  bool joint = false;          // train on the union of seen distributions
  // Weight of the routing-isolation loss (0: off): the new experts' gate rows are kept out of the top-k of the earlier
  // distributions' router inputs (drawn from each one's stored sketch) and pulled into the top-1 of the new data's.
  double isolation_weight = 0.0;
  // Generated rehearsal (orchestrator/generated_rehearsal.h): the share of each batch's rows written by the previous
  // phase's model for the earlier distributions (0: off), and the weight of the distillation towards that model on
  // them. Needs no earlier document: the model itself writes what it is reminded of.
  double rehearsal_share = 0.0;
  double rehearsal_weight = 1.0;
  std::string description;     // one line for help and reports
};

const std::vector<StrategyPreset>& strategy_presets();

// The preset named `name`, or nullopt.
std::optional<StrategyPreset> find_strategy_preset(const std::string& name);

// "grove, lifelong_moe, finetune, replay, joint" for error messages.
std::string strategy_names();

}  // namespace grove::experiments
