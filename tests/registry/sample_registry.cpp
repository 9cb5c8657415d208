#include "tests/registry/sample_registry.h"

#include <cmath>

#include "registry/registry.h"

namespace grove::testing {
using namespace grove::registry;

SampleRun populate_sample_run(Database& db, const std::string& run_name,
                              const std::vector<std::string>& distribution_names) {
  Transaction transaction(db);
  SampleRun sample;
  const int64_t tokenizer_id = register_tokenizer(
      db, {"tok-" + run_name, TokenizerKind::kUnigram, 4096, "/tmp/tok.model", distribution_names, 1 << 20});
  sample.run_id = create_run(db, {run_name, "grove", "seed: 7\n", 7, tokenizer_id, "/tmp/work"});
  set_run_status(db, sample.run_id, RunStatus::kRunning);

  for (size_t j = 0; j < distribution_names.size(); ++j) {
    const std::string& name = distribution_names[j];
    int64_t id = 0;
    if (auto current = find_current_distribution(db, name)) {
      id = current->id;
    } else {
      id = insert_distribution(db, {name, "source: text\n", "fp-" + name, "text", 100, 50000, 1, 0, "/tmp/shards/" + name});
      set_distribution_token_counts(db, id, 12000, 1300);
      record_shard(db, {id, tokenizer_id, Split::kTrain, "/tmp/shards/" + name + "/train.bin", 90, 12000, 45000, "aa"});
      record_shard(db, {id, tokenizer_id, Split::kHoldout, "/tmp/shards/" + name + "/holdout.bin", 10, 1300, 5000, "bb"});
    }
    sample.distribution_ids.push_back(id);
  }

  const int layers = 2;
  for (size_t i = 0; i < distribution_names.size(); ++i) {
    const auto decision = i == 0 ? GrowthDecision::kBase : GrowthDecision::kGrow;
    const int64_t phase_id =
        create_phase(db, {sample.run_id, static_cast<int64_t>(i), sample.distribution_ids[i], 100, decision,
                          i == 0 ? "base phase" : "bpb 4.2 > 1.1 x seen mean; \"novel\"", i == 0 ? 0 : 2});
    sample.phase_ids.push_back(phase_id);
    transition_phase(db, phase_id, PhaseStatus::kTraining);

    std::vector<NewExpert> born;
    for (int layer = 0; layer < layers; ++layer) {
      if (i == 0) {
        for (int slot = 0; slot < 4; ++slot) born.push_back({layer, slot, 0, ExpertInit::kBase, {}, slot % 2, 1000});
      } else {
        // Each growth copies the newest expert of the previous group and adds one random expert.
        const int64_t first = 4 + 2 * static_cast<int64_t>(i - 1);
        const int64_t parent = i == 1 ? 1 : first - 2;
        born.push_back({layer, first, static_cast<int64_t>(i), ExpertInit::kCopy, parent, 0, 1000});
        born.push_back({layer, first + 1, static_cast<int64_t>(i), ExpertInit::kRandom, {}, 1, 1000});
      }
    }
    const std::vector<int64_t> expert_ids = insert_experts(db, sample.run_id, phase_id, born);
    if (i > 0) freeze_expert_group(db, sample.run_id, static_cast<int64_t>(i - 1), phase_id);

    record_train_metrics(db, {{sample.run_id, phase_id, 50, 3.1, 0.01, 0.2, 3e-4, 1.5, 9000.0, ""},
                              {sample.run_id, phase_id, 100, 2.7, 0.01, 0.1, 1e-4, 1.1, 9100.0, ""}});
    set_phase_progress(db, phase_id, 100);
    insert_checkpoint(db, {sample.run_id, phase_id, 100, "/tmp/ckpt/" + std::to_string(i), 123456, "cc",
                           CheckpointKind::kPhaseEnd});
    transition_phase(db, phase_id, PhaseStatus::kEvaluating);

    // 'before' of phase 0: the untrained model (R_init) on every distribution; 'before' of later phases is
    // recorded in R[i-1] below, as an 'after' row of the previous phase.
    if (i == 0) {
      for (size_t j = 0; j < distribution_names.size(); ++j) {
        upsert_eval(db, {sample.run_id, phase_id, EvalStage::kBefore, sample.distribution_ids[j], "holdout",
                         kSampleInit[j], kSampleInit[j] * 0.7, std::exp(kSampleInit[j] * 0.7), 1300, 5000});
      }
    }
    for (size_t j = 0; j < distribution_names.size(); ++j) {
      if (j > i + 1) continue;  // not ingested yet
      const double bpb = kSampleAfter[i][j];
      upsert_eval(db, {sample.run_id, phase_id, EvalStage::kAfter, sample.distribution_ids[j], "holdout", bpb,
                       bpb * 0.7, std::exp(bpb * 0.7), 1300, 5000});
    }
    std::vector<RoutingRow> routing;
    for (size_t k = 0; k < born.size(); ++k) {
      routing.push_back({sample.run_id, phase_id, sample.distribution_ids[i], born[k].layer, expert_ids[k], 0.25});
    }
    record_routing(db, routing);
    record_event(db, {sample.run_id, phase_id, log::Level::kInfo, "phase_done", "phase done"});
    // Where the time went: recorded for the first two phases; the last reads as a phase from before schema v3.
    if (i < 2) add_phase_times(db, phase_id, {2.5 + static_cast<double>(i), 40.0, 3.0, 4.0, 0.5, 100 * 16 * 128});
    transition_phase(db, phase_id, PhaseStatus::kDone);
  }
  set_run_status(db, sample.run_id, RunStatus::kDone);
  transaction.commit();
  return sample;
}

}  // namespace grove::testing
