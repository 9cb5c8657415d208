#include "orchestrator/phase_groups.h"

#include <fmt/format.h>

#include "orchestrator/evaluator.h"
#include "orchestrator/seeds.h"
#include "orchestrator/similar_group.h"

namespace grove::orch {
namespace {

// "the base group, for en_science" / "grown for de_computer, en_science_b" / "grown for no earlier distribution"
std::string group_purpose(RunContext& ctx, int64_t phase_idx, int64_t group) {
  std::string names;
  for (const int64_t id : group_distributions(ctx, phase_idx, group)) {
    const auto distribution = registry::find_distribution(ctx.registry(), id);
    names += (names.empty() ? "" : ", ") + (distribution ? distribution->name : fmt::format("distribution {}", id));
  }
  if (names.empty()) names = "no earlier distribution";
  return group == 0 ? "the base group, for " + names : "grown for " + names;
}

}  // namespace

std::optional<int64_t> recorded_trained_group(const registry::PhaseRow& phase,
                                              const std::vector<registry::ExpertRow>& experts) {
  if (phase.trained_group) return phase.trained_group;
  if (phase.idx == 0) return 0;
  for (const auto& expert : experts) {
    if (expert.born_phase_id == phase.id) return expert.group_idx;
  }
  return std::nullopt;
}

std::set<int64_t> group_distributions(RunContext& ctx, int64_t phase_idx, int64_t group) {
  const auto experts = registry::list_experts(ctx.registry(), ctx.run.id);
  std::set<int64_t> ids;
  for (const auto& p : registry::list_phases(ctx.registry(), ctx.run.id)) {
    if (p.idx < phase_idx && recorded_trained_group(p, experts) == group) ids.insert(p.distribution_id);
  }
  return ids;
}

TrainedGroupChoice choose_trained_group(RunContext& ctx, const registry::PhaseRow& phase,
                                        model::MoeTransformer& model) {
  const auto& sizes = model.group_sizes();
  TrainedGroupChoice choice;
  if (sizes.size() == 1) {
    choice.reason = fmt::format("trains group 0's experts ({}), the only group", group_purpose(ctx, phase.idx, 0));
    return choice;
  }
  const torch::Tensor counts =
      routing_prepass(model, ctx.shard(phase.distribution_id, registry::Split::kTrain), ctx.config.training.seq_len,
                      ctx.config.training.batch_size, ctx.config.growth.prepass_tokens,
                      derive_seed(ctx.config.seed, phase.idx, "prepass"), ctx.plan);
  const GroupShares shares = group_routing_shares(counts, sizes);
  choice.group = shares.chosen;
  const auto g = static_cast<size_t>(choice.group);
  choice.reason = fmt::format(
      "trains group {}'s experts ({}), which take {:.1f}% of its routed tokens per expert, the most of any group "
      "({})",
      choice.group, group_purpose(ctx, phase.idx, choice.group), 100.0 * shares.share_per_expert[g],
      describe_group_shares(shares, sizes));
  return choice;
}

void record_trained_group(RunContext& ctx, const registry::PhaseRow& phase, int64_t group, int64_t n_groups) {
  auto& db = ctx.registry();
  for (int64_t g = 0; g < n_groups; ++g) {
    if (g != group) registry::freeze_expert_group(db, ctx.run.id, g, phase.id);
  }
  registry::thaw_expert_group(db, ctx.run.id, group);
  registry::set_phase_trained_group(db, phase.id, group);
}

}  // namespace grove::orch
