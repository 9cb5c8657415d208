// Evaluations a phase records: before training (the untrained model on every timeline distribution at phase 0 —
// R_init, for FWT — and the current model on the new distribution at later phases — forward transfer), and after
// training (every timeline distribution: row i of the forgetting matrix, with routing statistics).
#pragma once

#include <optional>
#include <vector>

#include "model/moe_transformer.h"
#include "orchestrator/evaluator.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

EvalSettings eval_settings(const RunContext& ctx);

// Evaluates `model` on each distribution in `distributions` and upserts eval rows (holdout split) for `phase`
// and `stage`. With `record_routing`, also writes the routing rows (token fraction per expert per layer).
// Returns the results per distribution, in order.
std::vector<EvalResult> evaluate_and_record(RunContext& ctx, model::MoeTransformer& model, const registry::PhaseRow& phase,
                                        registry::EvalStage stage,
                                        const std::vector<registry::DistributionRow>& distributions,
                                        bool record_routing);

}  // namespace grove::orch
