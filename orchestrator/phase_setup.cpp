#include "orchestrator/phase_setup.h"

#include <fmt/format.h>

#include <set>

#include "common/errors.h"
#include "common/log.h"
#include "model/growth.h"
#include "orchestrator/evaluator.h"
#include "orchestrator/growth_policy.h"
#include "orchestrator/phase_checkpoints.h"
#include "orchestrator/phase_evaluation.h"
#include "orchestrator/phase_groups.h"
#include "orchestrator/phase_vocabulary.h"
#include "orchestrator/seeds.h"

namespace grove::orch {
namespace {

registry::PhaseRow require_phase(RunContext& ctx, int64_t idx) {
  auto row = registry::find_phase(ctx.registry(), ctx.run.id, idx);
  if (!row) throw RegistryError(fmt::format("run '{}': phase {} is missing", ctx.run.name, idx));
  return *row;
}

int64_t expert_parameters(const RunContext& ctx) {
  // SwiGLU w1, w3 [f, d] and w2 [d, f], plus the expert's router row [d] (and bias).
  return 3 * ctx.model_config.d_model * ctx.model_config.d_expert + ctx.model_config.d_model +
         (ctx.model_config.router_bias ? 1 : 0);
}

void record_base_experts(RunContext& ctx, const registry::PhaseRow& phase) {
  std::vector<registry::NewExpert> experts;
  for (int64_t layer = 0; layer < ctx.model_config.n_layers; ++layer) {
    for (int64_t slot = 0; slot < ctx.model_config.n_experts; ++slot) {
      registry::NewExpert expert;
      expert.layer = layer;
      expert.slot = slot;
      expert.group_idx = 0;
      expert.init = registry::ExpertInit::kBase;
      expert.n_params = expert_parameters(ctx);
      experts.push_back(expert);
    }
  }
  registry::insert_experts(ctx.registry(), ctx.run.id, phase.id, experts);
}

std::vector<double> seen_bpbs_after(RunContext& ctx, const registry::PhaseRow& previous,
                                    const std::vector<registry::DistributionRow>& seen,
                                    model::MoeTransformer& model) {
  std::vector<double> bpbs;
  std::vector<registry::DistributionRow> missing;
  const auto evals = registry::list_evals(ctx.registry(), ctx.run.id);
  for (const auto& distribution : seen) {
    bool found = false;
    for (const auto& eval : evals) {
      if (eval.after_phase_id == previous.id && eval.stage == registry::EvalStage::kAfter &&
          eval.distribution_id == distribution.id && eval.split == "holdout" && eval.bpb) {
        bpbs.push_back(*eval.bpb);
        found = true;
        break;
      }
    }
    if (!found) missing.push_back(distribution);
  }
  if (!missing.empty()) {  // e.g. an inbox distribution ingested after the previous phase: measure it now
    for (const auto& result : evaluate_and_record(ctx, model, previous, registry::EvalStage::kAfter, missing, false)) {
      bpbs.push_back(result.bpb);
    }
  }
  return bpbs;
}

}  // namespace

model::TrainablePolicy phase_trainable_policy(const RunContext& ctx, int64_t phase_idx) {
  model::TrainablePolicy policy;
  if (phase_idx == 0) {
    policy.gate = model::GatePolicy::kAll;
    policy.shared = model::SharedPolicy::kTrainable;
    policy.experts = model::ExpertPolicy::kAll;
    return policy;
  }
  policy.gate = model::parse_gate_policy(ctx.strategy.gate, "strategy.gate");
  policy.shared = model::parse_shared_policy(ctx.strategy.shared, "strategy.shared");
  policy.experts = model::parse_expert_policy(ctx.strategy.experts, "strategy.experts");
  // The group the phase trains is what its row records (prepare_phase_model chose it): a resumed phase trains the
  // same group without choosing again. A phase recorded without one trains the newest, as phases did before.
  if (const auto row = registry::find_phase(*ctx.db, ctx.run.id, phase_idx)) policy.trained_group = row->trained_group;
  // Rows vocabulary growth added this phase train even where the shared weights are frozen (the old rows are kept).
  policy.new_vocabulary_rows = policy.shared == model::SharedPolicy::kFrozen && phase_grew_vocabulary(ctx, phase_idx);
  return policy;
}

std::shared_ptr<model::MoeTransformer> prepare_phase_model(RunContext& ctx, const registry::PhaseRow& phase) {
  auto& db = ctx.registry();
  const auto timeline = ctx.timeline_distributions();
  std::shared_ptr<model::MoeTransformer> model;

  if (phase.idx == 0) {
    model = std::make_shared<model::MoeTransformer>(ctx.model_config);
    model->to(ctx.plan.device);
    log::info("phase 0: evaluating the untrained model on {} distributions (R_init, for forward transfer)",
              timeline.size());
    evaluate_and_record(ctx, *model, phase, registry::EvalStage::kBefore, timeline, false);
    record_base_experts(ctx, phase);
    registry::set_phase_decision(db, phase.id, registry::GrowthDecision::kBase,
                                 fmt::format("base model: {} experts per layer, top-{}", ctx.model_config.n_experts,
                                             ctx.model_config.top_k),
                                 ctx.model_config.n_experts);
    if (ctx.strategy.experts == "newest") registry::set_phase_trained_group(db, phase.id, 0);
  } else {
    const auto previous = require_phase(ctx, phase.idx - 1);
    if (previous.status != registry::PhaseStatus::kDone) {
      throw RegistryError(fmt::format("run '{}': phase {} cannot start before phase {} is done (it is {})",
                                      ctx.run.name, phase.idx, previous.idx, registry::to_text(previous.status)));
    }
    model = load_model(ctx, phase_end_checkpoint(ctx, previous));

    const auto distribution = registry::find_distribution(db, phase.distribution_id);
    std::vector<registry::DistributionRow> seen;
    for (const auto& row : timeline) {
      for (const auto& p : registry::list_phases(db, ctx.run.id)) {
        if (p.idx < phase.idx && p.distribution_id == row.id && row.id != phase.distribution_id) {
          seen.push_back(row);
          break;
        }
      }
    }
    NoveltyEvidence evidence;
    evidence.new_bpb =
        evaluate_and_record(ctx, *model, phase, registry::EvalStage::kBefore, {*distribution}, false).front().bpb;
    const std::string mode_text = ctx.config.growth.policy.empty() ? ctx.strategy.growth : ctx.config.growth.policy;
    const GrowthMode mode = parse_growth_mode(mode_text, "growth.policy");
    if (mode == GrowthMode::kNovelty) evidence.seen_bpbs = seen_bpbs_after(ctx, previous, seen, *model);
    const auto decision =
        decide_growth(mode, ctx.config.growth.novelty_ratio, static_cast<int>(ctx.config.growth.experts_per_layer),
                      evidence);
    log::info("phase {} ({}): {}", phase.idx, distribution->name, decision.reason);

    int64_t added = 0;
    if (decision.grow) {
      model::GrowthOptions options;
      options.n_per_layer = ctx.config.growth.experts_per_layer;
      options.init = model::parse_growth_init(ctx.config.growth.init, "growth.init");
      options.seed = derive_seed(ctx.config.seed, phase.idx, "growth");
      options.noise_std = ctx.config.growth.noise_std;
      if (options.init == model::GrowthInit::kCopy) {
        options.parent_routing_counts = routing_prepass(
            *model, ctx.shard(phase.distribution_id, registry::Split::kTrain), ctx.config.training.seq_len,
            ctx.config.training.batch_size, ctx.config.growth.prepass_tokens,
            derive_seed(ctx.config.seed, phase.idx, "prepass"), ctx.plan);
      }
      const auto lineage = model::grow(*model, options);
      std::vector<registry::NewExpert> experts;
      for (const auto& entry : lineage) {
        registry::NewExpert expert;
        expert.layer = entry.layer;
        expert.slot = entry.slot;
        expert.group_idx = entry.group;
        expert.init = entry.init == model::GrowthInit::kCopy ? registry::ExpertInit::kCopy
                                                             : registry::ExpertInit::kRandom;
        expert.parent_slot = entry.parent_slot;
        expert.n_params = expert_parameters(ctx);
        experts.push_back(expert);
      }
      registry::insert_experts(db, ctx.run.id, phase.id, experts);
      added = ctx.config.growth.experts_per_layer;
    }
    std::string reason = decision.reason;
    if (ctx.strategy.experts == "newest") {
      // One group trains: the one just grown, or without growth the group of the most similar earlier distribution.
      const auto groups = static_cast<int64_t>(model->group_sizes().size());
      int64_t trained = groups - 1;
      if (!decision.grow) {
        const auto choice = choose_trained_group(ctx, phase, *model);
        trained = choice.group;
        log::info("phase {} ({}): no growth; {}", phase.idx, distribution->name, choice.reason);
        reason += "; " + choice.reason;
      }
      record_trained_group(ctx, phase, trained, groups);
    }
    registry::set_phase_decision(db, phase.id,
                                 decision.grow ? registry::GrowthDecision::kGrow : registry::GrowthDecision::kNoGrow,
                                 reason, added);
  }
  model->apply_trainable_policy(phase_trainable_policy(ctx, phase.idx));
  return model;
}

std::shared_ptr<model::MoeTransformer> load_teacher(RunContext& ctx, const registry::PhaseRow& phase) {
  if (phase.idx == 0 || (ctx.strategy.kd_weight <= 0 && ctx.strategy.rehearsal_share <= 0)) return nullptr;
  const auto previous = require_phase(ctx, phase.idx - 1);
  auto teacher = load_model(ctx, phase_end_checkpoint(ctx, previous));
  for (auto& parameter : teacher->parameters()) parameter.set_requires_grad(false);
  teacher->eval();
  return teacher;
}

}  // namespace grove::orch
