#include "orchestrator/phase_constraints.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "common/log.h"
#include "orchestrator/generated_rehearsal.h"
#include "orchestrator/phase_checkpoints.h"
#include "orchestrator/phase_groups.h"
#include "orchestrator/phase_vocabulary.h"
#include "orchestrator/seeds.h"

namespace grove::orch {
namespace {

// The sketches of the distributions that phases before `phase` trained on (the newest phase of each), other than
// `phase`'s own distribution and those in `excluded`.
std::vector<DistributionSketch> earlier_sketches(RunContext& ctx, const registry::PhaseRow& phase,
                                                 const std::set<int64_t>& excluded = {}) {
  std::map<int64_t, int64_t> newest_phase;  // distribution id -> phase idx
  for (const auto& p : registry::list_phases(ctx.registry(), ctx.run.id)) {
    if (p.idx < phase.idx && p.distribution_id != phase.distribution_id && !excluded.contains(p.distribution_id)) {
      newest_phase[p.distribution_id] = p.idx;
    }
  }
  std::vector<DistributionSketch> sketches;
  for (const auto& [distribution, idx] : newest_phase) {
    const auto path = sketch_path(ctx.run_dir, idx);
    if (!std::filesystem::exists(path)) {
      const auto earlier = registry::find_phase(ctx.registry(), ctx.run.id, idx);
      log::warn(
          "phase {}: the sketch of phase {} is missing ({}); measuring it again from that phase's final "
          "checkpoint and training data",
          phase.idx, idx, path.string());
      auto model = load_model(ctx, phase_end_checkpoint(ctx, *earlier));
      write_phase_sketch(ctx, *earlier, *model);
    }
    sketches.push_back(
        load_sketch(path, ctx.model_config.n_layers, ctx.model_config.d_model, ctx.model_config.vocab_size));
  }
  return sketches;
}

// The group that routing isolation keeps apart: the one the phase trains (recorded under `experts: newest`, grown or
// chosen), else the new group of a phase that grew; none for a phase that trains every group without growing, or a
// model of one group.
std::optional<int64_t> isolated_group(const registry::PhaseRow& phase, const model::MoeTransformer& model) {
  const auto groups = static_cast<int64_t>(model.group_sizes().size());
  if (groups < 2) return std::nullopt;
  if (phase.trained_group) return phase.trained_group;
  if (phase.experts_added > 0) return groups - 1;
  return std::nullopt;
}

}  // namespace

PhaseConstraints phase_constraints(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model) {
  PhaseConstraints constraints;
  if (phase.idx == 0) return constraints;
  const auto group = isolated_group(phase, model);
  const bool isolate = ctx.strategy.isolation_weight > 0 && group.has_value();
  const bool orthogonal = ctx.strategy.shared == "orthogonal";
  const bool token_rows = ctx.strategy.shared == "new_tokens" || orthogonal;
  if (ctx.strategy.shared == "frozen" && phase_grew_vocabulary(ctx, phase.idx)) {
    // Frozen shared weights, a grown vocabulary: only the appended rows train.
    const int64_t known = ctx.phase_vocab_size(phase.idx - 1);
    const auto keep = torch::arange(model.config().vocab_size) < known;
    constraints.token_rows = std::make_unique<TokenRowMask>(model, keep, /*with_head=*/true);
    log::info("phase {}: shared weights frozen; the {} embedding and LM-head rows vocabulary growth added train",
              phase.idx, constraints.token_rows->trainable_rows());
  }
  if (!isolate && !token_rows) return constraints;
  const auto sketches = earlier_sketches(ctx, phase);
  if (sketches.empty()) return constraints;
  if (isolate) {
    // Isolated from the distributions that other groups are for: a group chosen without growth keeps the tokens of
    // the distributions it was trained for (their sketches are left out).
    const auto kept = group_distributions(ctx, phase.idx, *group);
    const auto others = kept.empty() ? sketches : earlier_sketches(ctx, phase, kept);
    if (others.empty()) {
      log::info("phase {}: no routing isolation: every earlier distribution is group {}'s", phase.idx, *group);
    } else {
      constraints.isolation = std::make_unique<RoutingIsolation>(model, static_cast<size_t>(*group), others,
                                                                 derive_seed(ctx.config.seed, phase.idx, "isolation"));
      log::info(
          "phase {}: routing isolation of group {} against {} earlier distribution(s), weight {}; {:.1f}% of their "
          "sampled router inputs now have one of its experts in their top-{}",
          phase.idx, *group, others.size(), ctx.strategy.isolation_weight,
          100.0 * constraints.isolation->leaked_share(model), ctx.model_config.top_k);
    }
  }
  if (token_rows) {
    constraints.token_rows = std::make_unique<TokenRowMask>(model, sketches, /*with_head=*/!orthogonal);
    log::info("phase {}: {} of {} embedding{} rows train (tokens no earlier distribution used)", phase.idx,
              constraints.token_rows->trainable_rows(), constraints.token_rows->vocabulary(),
              orthogonal ? "" : " and LM-head");
  }
  if (orthogonal) {
    constraints.orthogonal = std::make_unique<OrthogonalUpdates>(model, sketches);
    std::string attention;
    for (const int64_t free : constraints.orthogonal->attention_free_directions()) {
      attention += (attention.empty() ? "" : ", ") + std::to_string(free);
    }
    log::info(
        "phase {}: shared updates kept off the earlier distributions' input directions; free of {}: LM head "
        "{}, attention per layer {}",
        phase.idx, ctx.model_config.d_model, constraints.orthogonal->head_free_directions(), attention);
  }
  return constraints;
}

void PhaseConstraints::before_step() const {
  if (token_rows) token_rows->mask_gradients();
  if (orthogonal) orthogonal->before_step();
}

void PhaseConstraints::after_step() const {
  if (orthogonal) orthogonal->after_step();
  if (token_rows) token_rows->restore_rows();
}

torch::Tensor phase_rehearsal_pool(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& teacher,
                                   int64_t rows) {
  const int64_t width = ctx.config.training.seq_len + 1;
  const auto path = rehearsal_pool_path(ctx.run_dir, phase.idx);
  if (std::filesystem::exists(path)) return load_rehearsal_pool(path, rows, width, ctx.model_config.vocab_size);
  const auto sketches = earlier_sketches(ctx, phase);
  if (sketches.empty()) return {};
  std::vector<torch::Tensor> start_weights;
  for (const auto& sketch : sketches) start_weights.push_back(sketch.token_counts);
  RehearsalSettings settings;
  settings.rows = rows;
  settings.width = width;
  settings.seed = derive_seed(ctx.config.seed, phase.idx, "rehearsal");
  settings.bf16_autocast = ctx.plan.bf16_autocast;
  const auto start = std::chrono::steady_clock::now();
  const auto pool = generate_rehearsal_pool(teacher, start_weights, settings);
  save_rehearsal_pool(path, pool);
  log::info("phase {}: the previous model wrote {} rehearsal windows of {} tokens for {} earlier distribution(s) in "
            "{:.1f} s ({})",
            phase.idx, rows, width, sketches.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), path.string());
  return pool;
}

bool strategy_uses_sketches(const RunContext& ctx) {
  return ctx.strategy.isolation_weight > 0 || ctx.strategy.shared == "new_tokens" ||
         ctx.strategy.shared == "orthogonal" || ctx.strategy.rehearsal_share > 0;
}

void write_phase_sketch(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model) {
  SketchSettings settings;
  settings.seq_len = ctx.config.training.seq_len;
  settings.batch_size = ctx.config.evaluation.batch_size;
  settings.seed = derive_seed(ctx.config.seed, phase.idx, "sketch");
  const auto sketch =
      sketch_distribution(model, ctx.shard(phase.distribution_id, registry::Split::kTrain), settings, ctx.plan);
  save_sketch(sketch_path(ctx.run_dir, phase.idx), sketch);
}

}  // namespace grove::orch
