// Which expert group each phase of a run trains, under strategies that train one group at a time (`experts:
// newest`): a phase that grows trains its new group, one that does not the group of its most similar earlier
// distribution (orchestrator/similar_group.h). The registry records it (phases.trained_group, and the experts'
// frozen-since marks); a resumed phase reads it from there, and routing isolation asks which earlier distributions
// a group is for.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/moe_transformer.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

// The group whose tokens `phase` trained as the registry tells: its trained_group; where that is NULL, group 0 for
// phase 0 and the group born in a grown phase (`experts`: the run's); none otherwise (every group trained, or a
// phase without growth recorded before trained_group was).
std::optional<int64_t> recorded_trained_group(const registry::PhaseRow& phase,
                                              const std::vector<registry::ExpertRow>& experts);

// The ids of the distributions of the run's phases before `phase_idx` whose tokens `group` is for (their recorded
// trained group is `group`).
std::set<int64_t> group_distributions(RunContext& ctx, int64_t phase_idx, int64_t group);

struct TrainedGroupChoice {
  int64_t group = 0;
  std::string reason;  // "trains group 0's experts (the base group, for en_science), which take ..."
};

// For phase `phase`, which does not grow: the group of the most similar earlier distribution, by a routing pre-pass
// of `model` (the previous phase's final model) over a sample of the phase's train shard.
TrainedGroupChoice choose_trained_group(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model);

// Records that `phase` trains `group` of a model of `n_groups` groups: phases.trained_group, every other group frozen
// since this phase (a group frozen earlier keeps its mark), and `group` thawed (frozen_at_phase_id NULL) if an
// earlier phase had frozen it.
void record_trained_group(RunContext& ctx, const registry::PhaseRow& phase, int64_t group, int64_t n_groups);

}  // namespace grove::orch
