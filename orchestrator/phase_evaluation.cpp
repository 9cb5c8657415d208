#include "orchestrator/phase_evaluation.h"

#include <fmt/format.h>

#include <map>

#include "common/errors.h"
#include "common/log.h"
#include "orchestrator/phase_time_account.h"

namespace grove::orch {

EvalSettings eval_settings(const RunContext& ctx) {
  EvalSettings settings;
  settings.seq_len = ctx.config.training.seq_len;
  settings.batch_size = ctx.config.evaluation.batch_size;
  settings.max_tokens = ctx.config.evaluation.max_tokens;
  return settings;
}

std::vector<EvalResult> evaluate_and_record(RunContext& ctx, model::MoeTransformer& model, const registry::PhaseRow& phase,
                                        registry::EvalStage stage,
                                        const std::vector<registry::DistributionRow>& distributions,
                                        bool record_routing) {
  const PhaseTimeAccount::Scope evaluating(ctx.phase_time, TimeUse::kEvaluation);
  std::map<std::pair<int64_t, int64_t>, int64_t> expert_ids;  // (layer, slot) -> experts.id
  if (record_routing) {
    for (const auto& expert : registry::list_experts(ctx.registry(), ctx.run.id)) {
      expert_ids[{expert.layer, expert.slot}] = expert.id;
    }
  }
  std::vector<EvalResult> results;
  for (const auto& distribution : distributions) {
    const auto result = evaluate_holdout(model, ctx.shard(distribution.id, registry::Split::kHoldout),
                                         eval_settings(ctx), ctx.plan);
    registry::NewEval row;
    row.run_id = ctx.run.id;
    row.after_phase_id = phase.id;
    row.stage = stage;
    row.distribution_id = distribution.id;
    row.split = "holdout";
    row.bpb = result.bpb;
    row.loss = result.loss;
    row.ppl = result.ppl;
    row.tokens = result.targets;
    row.bytes = result.bytes;
    registry::upsert_eval(ctx.registry(), row);
    log::info("  eval {} phase {} on {}: {:.4f} bits/byte, loss {:.4f}, ppl {:.2f} ({} tokens, {} bytes)",
              registry::to_text(stage), phase.idx, distribution.name, result.bpb, result.loss, result.ppl,
              result.targets, result.bytes);

    if (record_routing && result.routing_counts.defined()) {
      const auto counts = result.routing_counts.to(torch::kDouble);
      std::vector<registry::RoutingRow> rows;
      for (int64_t layer = 0; layer < counts.size(0); ++layer) {
        // Fractions of the layer's tokens: top-k assignments per token, so a layer's fractions sum to k.
        const double tokens = counts[layer].sum().item<double>() / static_cast<double>(ctx.model_config.top_k);
        for (int64_t slot = 0; slot < counts.size(1); ++slot) {
          const auto id = expert_ids.find({layer, slot});
          if (id == expert_ids.end()) {
            throw RegistryError(fmt::format("run '{}': expert layer {} slot {} is not in the registry", ctx.run.name,
                                            layer, slot));
          }
          rows.push_back({ctx.run.id, phase.id, distribution.id, layer, id->second,
                          tokens > 0 ? counts[layer][slot].item<double>() / tokens : 0.0});
        }
      }
      registry::record_routing(ctx.registry(), rows);
    }
    results.push_back(result);
  }
  return results;
}

}  // namespace grove::orch
