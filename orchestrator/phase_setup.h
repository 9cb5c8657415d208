// Starting a phase from scratch (status pending): build or load its starting model, record the evaluations that
// precede training, decide on growth (policy and evidence), grow every MoE layer and record the lineage, choose the
// expert group that trains (orchestrator/phase_groups.h), freeze what the strategy keeps, and apply the phase's
// trainable policy.
#pragma once

#include <memory>

#include "model/moe_transformer.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

// The trainable policy a strategy gives phase `phase_idx` (phase 0 trains everything). Under `experts: newest` the
// trained group is the one the phase's registry row records (phases.trained_group; the newest where it is NULL), so
// that a resumed phase trains the group its start chose.
model::TrainablePolicy phase_trainable_policy(const RunContext& ctx, int64_t phase_idx);

// Prepares phase `phase` (pending) and returns its starting model with the trainable policy applied. Writes the
// 'before' evals, the decision and reason, expert rows, the trained group and freeze marks to the registry.
std::shared_ptr<model::MoeTransformer> prepare_phase_model(RunContext& ctx, const registry::PhaseRow& phase);

// The previous phase's final model, frozen and in eval mode (the distillation teacher, and the writer of generated
// rehearsal); nullptr for phase 0 and for strategies that use neither.
std::shared_ptr<model::MoeTransformer> load_teacher(RunContext& ctx, const registry::PhaseRow& phase);

}  // namespace grove::orch
