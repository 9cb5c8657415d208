// What a phase's strategy asks of training beyond its trainable policy, built from the sketches that the earlier
// phases left of their distributions (orchestrator/distribution_sketch.h): the routing-isolation loss
// (`isolation_weight` > 0 in a phase that trains one group: the one it grew, or the one it chose without growth,
// orchestrator/phase_groups.h), the token-row mask (`shared: new_tokens` or `orthogonal`) and the
// projected updates of the shared linear maps (`shared: orthogonal`). Also where a phase
// writes its own sketch when it ends.
#pragma once

#include <memory>

#include "model/moe_transformer.h"
#include "orchestrator/orthogonal_updates.h"
#include "orchestrator/routing_isolation.h"
#include "orchestrator/run_context.h"
#include "orchestrator/token_rows.h"

namespace grove::orch {

struct PhaseConstraints {
  std::unique_ptr<RoutingIsolation> isolation;    // null when off
  std::unique_ptr<TokenRowMask> token_rows;       // null when off
  std::unique_ptr<OrthogonalUpdates> orthogonal;  // null when off

  // Around each optimizer step (TrainerHooks::before_step / after_step).
  void before_step() const;
  void after_step() const;
  bool any() const { return token_rows || orthogonal; }
};

// For `model` as the phase trains it (trainable policy applied). A sketch that is missing (a run made before
// sketches, a work folder cleaned) is measured again from its phase's final checkpoint and training data, with a
// warning; one that cannot be is a CheckpointError naming it.
PhaseConstraints phase_constraints(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model);

// The phase's generated-rehearsal pool (orchestrator/generated_rehearsal.h), `rows` windows of the training width
// that `teacher` (the previous phase's model) writes for the earlier distributions: read from the run folder when
// an earlier attempt wrote it, otherwise generated and written there. Undefined when the phase has no earlier
// distribution.
torch::Tensor phase_rehearsal_pool(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& teacher,
                                   int64_t rows);

// Whether the run's strategy reads sketches (routing isolation, `new_tokens`, `orthogonal` or generated rehearsal):
// only then does a phase write one.
bool strategy_uses_sketches(const RunContext& ctx);

// Measures the sketch of the phase's own distribution under its final model and writes it (replacing one there).
void write_phase_sketch(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model);

}  // namespace grove::orch
