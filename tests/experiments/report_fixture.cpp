#include "tests/experiments/report_fixture.h"

#include <cmath>

#include "registry/registry.h"

namespace grove::testing {
namespace {
using namespace grove::registry;

constexpr int kLayers = 2;
constexpr int kBaseExperts = 4;
const std::vector<double> kInit = {8.1, 8.3, 8.0, 8.4};
const std::vector<double> kTrained = {2.10, 2.30, 2.05, 2.70};  // R[j][j]

std::vector<int64_t> insert_distributions(Database& db) {
  std::vector<int64_t> ids;
  for (const auto& name : kFixtureDistributions) {
    const int64_t id = insert_distribution(
        db, {name, "source: fortune\n", "fp-" + name, "fortune", 1200, 310000, 3, 0, "/data/shards/" + name});
    set_distribution_token_counts(db, id, 90000, 9000);
    ids.push_back(id);
  }
  return ids;
}

// A distribution's routing over `experts` (ids) of one layer: top-2 fractions summing to 2, most on the experts
// of the distribution's own phase group when there is one.
std::vector<RoutingRow> routing_rows(int64_t run_id, int64_t phase_id, int64_t distribution_id, size_t j, int layer,
                                     const std::vector<ExpertRow>& experts) {
  std::vector<double> weight;
  for (const auto& e : experts) {
    const bool own = (j == 0 && e.group_idx == 0) || (j == 1 && e.group_idx == 1) || (j == 3 && e.group_idx == 2) ||
                     (j == 2 && e.group_idx == 1);
    weight.push_back((own ? 6.0 : 1.0) + 0.3 * static_cast<double>((e.slot + layer) % 3));
  }
  double sum = 0;
  for (double w : weight) sum += w;
  std::vector<RoutingRow> rows;
  for (size_t k = 0; k < experts.size(); ++k) {
    rows.push_back({run_id, phase_id, distribution_id, layer, experts[k].id, 2.0 * weight[k] / sum});
  }
  return rows;
}

size_t populate_run(Database& db, const std::string& name, const std::string& strategy,
                    const std::vector<int64_t>& distributions) {
  const bool grove = strategy == "grove";
  // What a run stores: its resolved configuration (abridged here) with the strategy as it trained.
  const std::string settings = grove ? "{growth: novelty, experts: newest, gate: new_rows, shared: trainable, "
                                       "kd_weight: 0, kd_temperature: 2, replay_share: 0.25}"
                                     : "{growth: never, experts: all, gate: all, shared: trainable, kd_weight: 0, "
                                       "kd_temperature: 2, replay_share: 0}";
  const std::string config = "strategies: [" + strategy + "]\nseed: 7\nstrategy_overrides: " + settings + "\n";
  const int64_t run_id = create_run(db, {name, strategy, config, 7, {}, "/work/runs"});
  set_run_status(db, run_id, RunStatus::kRunning);
  size_t evals = 0;
  int64_t next_slot = kBaseExperts;
  std::vector<int64_t> phase_ids;
  for (size_t i = 0; i < distributions.size(); ++i) {
    const bool grows = grove && (i == 1 || i == 3);
    const auto decision = i == 0 ? GrowthDecision::kBase : grows ? GrowthDecision::kGrow : GrowthDecision::kNoGrow;
    const std::string reason =
        i == 0 ? "base phase"
        : grows ? "novelty: bpb 5.6 > 1.25 × seen mean 2.1; \"new\" <distribution> & more"
        : grove ? "novelty: bpb 2.4 ≤ 1.25 × seen mean 2.2, train without growth"
                : "strategy finetune never grows";
    const int64_t phase_id =
        create_phase(db, {run_id, static_cast<int64_t>(i), distributions[i], 30, decision, reason, grows ? 2 : 0});
    phase_ids.push_back(phase_id);
    transition_phase(db, phase_id, PhaseStatus::kTraining);

    std::vector<NewExpert> born;
    for (int layer = 0; layer < kLayers; ++layer) {
      if (i == 0) {
        for (int slot = 0; slot < kBaseExperts; ++slot) born.push_back({layer, slot, 0, ExpertInit::kBase, {}, 0, 393216});
      } else if (grows) {
        const int64_t group = i == 1 ? 1 : 2;
        born.push_back({layer, next_slot, group, ExpertInit::kCopy, i == 1 ? 2 + layer : 4, 0, 393216});
        born.push_back({layer, next_slot + 1, group, ExpertInit::kRandom, {}, 0, 393216});
      }
    }
    if (!born.empty()) insert_experts(db, run_id, phase_id, born);
    if (grows) {
      next_slot += 2;
      freeze_expert_group(db, run_id, i == 1 ? 0 : 1, phase_id);
    }
    const int64_t experts_alive = kBaseExperts + (grove ? (i >= 3 ? 4 : i >= 1 ? 2 : 0) : 0);
    if (grove) set_phase_parameters(db, phase_id, 2400000 + experts_alive * kLayers * 393216, 2400000 + 2 * kLayers * 393216);
    // Where the time went: 30 steps of 16 × 128 tokens; the finetune run has no times for phase 2.
    if (!(strategy == "finetune" && i == 2)) {
      add_phase_times(db, phase_id, {1.5 + static_cast<double>(i), 30.0, 2.0, 3.0, 0.5, 30 * 16 * 128});
    }

    if (!(strategy == "finetune" && i == 2)) {  // the finetune run lost phase 2's training metrics
      std::vector<TrainMetricRow> rows;
      for (int step = 1; step <= 30; ++step) {
        const double loss = 2.0 + 3.5 * std::exp(-step / 8.0) + 0.2 * static_cast<double>(i);
        rows.push_back({run_id, phase_id, step, loss, 0.011 + 0.002 * std::exp(-step / 10.0),
                        i > 0 && grove ? std::optional<double>(0.6 * std::exp(-step / 12.0)) : std::nullopt, 3e-4,
                        1.2, 41000.0, ""});
      }
      record_train_metrics(db, rows);
    }
    set_phase_progress(db, phase_id, 30);
    insert_checkpoint(db, {run_id, phase_id, 30, "/work/runs/ckpt-" + std::to_string(i), 9000000, "abcd",
                           CheckpointKind::kPhaseEnd});
    transition_phase(db, phase_id, PhaseStatus::kEvaluating);

    auto eval = [&](EvalStage stage, size_t j, double bpb) {
      upsert_eval(db, {run_id, phase_id, stage, distributions[j], "holdout", bpb, bpb * 0.9, std::exp(bpb * 0.9),
                       9000, 31000});
      ++evals;
    };
    if (i == 0) {
      for (size_t j = 0; j < distributions.size(); ++j) {
        if (!(strategy == "finetune" && j == 2)) eval(EvalStage::kBefore, j, kInit[j]);  // R_init[2] missing
      }
    } else {
      eval(EvalStage::kBefore, i, fixture_bpb(strategy, i - 1, i));
    }
    for (size_t j = 0; j < distributions.size(); ++j) {
      const bool missing = strategy == "finetune" && ((i == 3 && j == 1) || (i == 0 && j == 2));
      if (!missing) eval(EvalStage::kAfter, j, fixture_bpb(strategy, i, j));
    }
    if (grove && i >= 2) {
      std::vector<RoutingRow> rows;
      for (int layer = 0; layer < kLayers; ++layer) {
        const auto experts = list_experts(db, run_id, layer);
        for (size_t j = 0; j < distributions.size(); ++j) {
          auto more = routing_rows(run_id, phase_id, distributions[j], j, layer, experts);
          rows.insert(rows.end(), more.begin(), more.end());
        }
      }
      record_routing(db, rows);
    }
    record_event(db, {run_id, phase_id, log::Level::kInfo, "phase_done", "phase " + std::to_string(i) + " done"});
    transition_phase(db, phase_id, PhaseStatus::kDone);
  }
  set_run_status(db, run_id, RunStatus::kDone);
  return evals;
}

}  // namespace

double fixture_bpb(const std::string& strategy, size_t i, size_t j) {
  if (j > i) return kInit[j] - 2.2 - 0.3 * static_cast<double>(i);  // before training on it: forward transfer
  const double drift = strategy == "grove" ? 0.03 : 0.45;
  return kTrained[j] + drift * static_cast<double>(i - j);
}

FixtureCounts populate_report_fixture(Database& db) {
  Transaction transaction(db);
  const auto distributions = insert_distributions(db);
  FixtureCounts counts;
  counts.grove_evals = populate_run(db, kGroveRun, "grove", distributions);
  counts.finetune_evals = populate_run(db, kFinetuneRun, "finetune", distributions);
  transaction.commit();
  return counts;
}

void populate_specialisation_fixture(Database& db) {
  Transaction transaction(db);
  const int64_t run_id = create_run(db, {kSpecialisationRun, "grove", "seed: 1\n", 1, {}, "/work/runs"});
  set_run_status(db, run_id, RunStatus::kRunning);
  const GrowthDecision decisions[] = {GrowthDecision::kBase, GrowthDecision::kGrow, GrowthDecision::kNoGrow,
                                      GrowthDecision::kGrow};
  std::vector<int64_t> distributions, phases;
  std::vector<std::vector<int64_t>> experts(2);  // per layer: expert ids by slot
  for (size_t i = 0; i < kSpecialisationDistributions.size(); ++i) {
    const std::string& name = kSpecialisationDistributions[i];
    distributions.push_back(insert_distribution(db, {name, "source: text\n", "fp-" + name, "text", 10, 1000, 0, 0,
                                                     "/data/shards/" + name}));
    const bool grows = decisions[i] == GrowthDecision::kGrow;
    phases.push_back(create_phase(db, {run_id, static_cast<int64_t>(i), distributions[i], 10, decisions[i], "",
                                       grows ? 2 : 0}));
    transition_phase(db, phases[i], PhaseStatus::kTraining);
    std::vector<NewExpert> born;
    for (int64_t layer = 0; layer < 2; ++layer) {
      if (i == 0 || grows) {
        const int64_t group = i == 0 ? 0 : i == 1 ? 1 : 2;
        const int64_t slot = 2 * group;
        born.push_back({layer, slot, group, i == 0 ? ExpertInit::kBase : ExpertInit::kCopy,
                        i == 0 ? std::nullopt : std::optional<int64_t>(0), 0, 1000});
        born.push_back({layer, slot + 1, group, i == 0 ? ExpertInit::kBase : ExpertInit::kRandom, {}, 0, 1000});
      }
    }
    if (!born.empty()) {
      const auto ids = insert_experts(db, run_id, phases[i], born);
      for (size_t e = 0; e < born.size(); ++e) experts[static_cast<size_t>(born[e].layer)].push_back(ids[e]);
    }
    if (i == 3) break;  // ru is still training: no routing after it
    transition_phase(db, phases[i], PhaseStatus::kEvaluating);
    transition_phase(db, phases[i], PhaseStatus::kDone);
  }
  // Top-2 routing over experts 0-3: each (layer, distribution) row of fractions sums to 2.
  auto route = [&](size_t phase, int64_t layer, size_t distribution, const std::vector<double>& fractions) {
    std::vector<RoutingRow> rows;
    for (size_t e = 0; e < fractions.size(); ++e) {
      rows.push_back({run_id, phases[phase], distributions[distribution], layer,
                      experts[static_cast<size_t>(layer)][e], fractions[e]});
    }
    record_routing(db, rows);
  };
  // After phase 1, every distribution went to experts 2-3 only: stale, the report must not read it.
  for (size_t j = 0; j < 4; ++j) route(1, 0, j, {0.0, 0.0, 1.0, 1.0});
  // After phase 2 (the latest with routing). Own experts: en 0-1, py 2-3.
  route(2, 0, 0, {0.8, 0.7, 0.3, 0.2});  // en: (0.8 + 0.7) / 2 = 0.75
  route(2, 0, 1, {0.2, 0.2, 0.8, 0.8});  // py: (0.8 + 0.8) / 2 = 0.80
  route(2, 0, 2, {0.5, 0.5, 0.5, 0.5});  // py-more: no growth
  route(2, 0, 3, {0.5, 0.5, 0.5, 0.5});  // ru: its experts 4-5 are newer than these rows: n/a
  route(2, 1, 0, {1.0, 1.0, 0.0, 0.0});  // en: 1.00, only its own experts
  route(2, 1, 1, {0.5, 0.5, 0.5, 0.5});  // py: 0.50
  route(2, 1, 2, {0.1, 0.1, 0.9, 0.9});  // py-more: no growth
  route(2, 1, 3, {0.5, 0.5, 0.5, 0.5});  // ru: n/a
  transaction.commit();
}

}  // namespace grove::testing
