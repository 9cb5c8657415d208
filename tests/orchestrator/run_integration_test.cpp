// A whole run on real corpora with a tiny model: what the registry holds afterwards, what froze, and how a bad
// experiment file is refused before anything is written.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "model/safetensors.h"
#include "registry/train_metrics.h"
#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;
using testing::tensor_bytes;
using testing::tensor_names;

class RunIntegration : public RunFixture {};

TEST_F(RunIntegration, ThreePhaseRunRecordsPhasesLineageCheckpointsEvalsAndRouting) {
  const auto experiment = write_experiment();
  const auto result = grove({"run", experiment.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  auto db = open_registry();
  const auto run = registry::require_run(db, kTinyRun);
  EXPECT_EQ(run.status, registry::RunStatus::kDone);
  EXPECT_EQ(run.strategy, "grove");
  EXPECT_NE(run.config_yaml.find("steps: 12"), std::string::npos) << "the resolved config is stored";

  const auto phases = registry::list_phases(db, run.id);
  ASSERT_EQ(phases.size(), 3u);
  for (const auto& phase : phases) {
    EXPECT_EQ(phase.status, registry::PhaseStatus::kDone) << phase.idx;
    EXPECT_EQ(phase.steps_done, phase.steps_total) << phase.idx;
  }
  EXPECT_EQ(phases[0].decision, registry::GrowthDecision::kBase);
  EXPECT_EQ(phases[1].decision, registry::GrowthDecision::kGrow);
  EXPECT_EQ(phases[2].decision, registry::GrowthDecision::kGrow);
  EXPECT_NE(phases[1].decision_reason->find("always"), std::string::npos);

  // Experts: 2 layers x (4 base + 2 + 2 grown), lineage of copies, groups frozen as they age.
  const auto experts = registry::list_experts(db, run.id);
  ASSERT_EQ(experts.size(), 16u);
  for (const auto& expert : experts) {
    if (expert.group_idx == 0) {
      EXPECT_EQ(expert.init, registry::ExpertInit::kBase);
      EXPECT_FALSE(expert.parent_expert_id.has_value());
      EXPECT_EQ(expert.frozen_at_phase_id, phases[1].id) << "base experts freeze when phase 1 grows";
    } else {
      EXPECT_EQ(expert.init, registry::ExpertInit::kCopy);
      ASSERT_TRUE(expert.parent_expert_id.has_value());
      const auto parent = registry::find_expert_by_id(db, *expert.parent_expert_id);
      EXPECT_EQ(parent->layer, expert.layer);
      EXPECT_LT(parent->group_idx, expert.group_idx);
      EXPECT_EQ(expert.born_phase_id, phases[expert.group_idx].id);
    }
    if (expert.group_idx == 1) {
      EXPECT_EQ(expert.frozen_at_phase_id, phases[2].id);
    }
    if (expert.group_idx == 2) {
      EXPECT_FALSE(expert.frozen_at_phase_id.has_value());
    }
  }
  const auto ancestry = registry::expert_ancestors(db, run.id, 1, 6);  // layer 1, slot 6: born in phase 2
  EXPECT_GE(ancestry.size(), 2u) << "a phase-2 expert descends from an earlier one";

  // Checkpoints: a phase-end checkpoint per phase, recorded with its checksum, and nothing else once the phase is
  // done: its periodic ones (written every 5 steps) are deleted, rows and folders.
  for (const auto& phase : phases) {
    const auto rows = registry::list_checkpoints(db, run.id, phase.id);
    ASSERT_EQ(rows.size(), 1u) << "phase " << phase.idx << " keeps only its final checkpoint";
    EXPECT_EQ(rows[0].kind, registry::CheckpointKind::kPhaseEnd) << phase.idx;
    EXPECT_EQ(rows[0].xxh3.size(), 16u);
    EXPECT_TRUE(std::filesystem::exists(rows[0].path)) << rows[0].path;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(rows[0].path).parent_path())) {
      EXPECT_EQ(entry.path().filename(), "final") << "left behind: " << entry.path();
    }
  }

  // The full evaluation matrix, the untrained row and no missing cell.
  const auto matrix = registry::eval_matrix(db, run.id);
  ASSERT_EQ(matrix.after.size(), 3u);
  for (size_t j = 0; j < 3; ++j) {
    ASSERT_TRUE(matrix.init[j].has_value()) << j;
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(matrix.after[i][j].has_value()) << i << "," << j;
      EXPECT_GT(*matrix.after[i][j], 0.0);
    }
    EXPECT_LT(*matrix.after[j][j], *matrix.init[j]) << "training on a distribution lowers its bits per byte";
  }

  // Routing: every phase, every distribution, every layer, every expert that existed then; fractions sum to k.
  const auto routing = registry::list_routing(db, run.id);
  EXPECT_EQ(routing.size(), 3u * 2u * (4u + 6u + 8u));
  double layer_sum = 0;
  for (const auto& row : routing) {
    if (row.after_phase_id == phases[2].id && row.layer == 0 && row.distribution_id == phases[0].distribution_id) {
      layer_sum += row.token_fraction;
    }
  }
  EXPECT_NEAR(layer_sum, 2.0, 1e-6) << "top-2: a layer's fractions sum to 2";
  EXPECT_FALSE(registry::list_train_metrics(db, phases[1].id).empty());
}

// The rows of the embedding (or LM head) `name` that belong to earlier distributions: tokens whose share of the
// training tokens of the distribution of phase `phase_idx` (by its sketch's counts) is at least 1e-5.
std::vector<int64_t> used_rows(const std::filesystem::path& run_dir, int64_t phase_idx) {
  const model::SafetensorsReader sketch(run_dir / "sketches" / ("phase-" + std::to_string(phase_idx) + ".safetensors"));
  const auto& info = sketch.info("token_counts");
  std::vector<int64_t> counts(static_cast<size_t>(info.numel()));
  sketch.read("token_counts", counts.data(), counts.size() * sizeof(int64_t));
  int64_t total = 0;
  for (const int64_t count : counts) total += count;
  std::vector<int64_t> rows;
  for (size_t id = 0; id < counts.size(); ++id) {
    if (static_cast<double>(counts[id]) >= 1e-5 * static_cast<double>(total)) rows.push_back(static_cast<int64_t>(id));
  }
  return rows;
}

TEST_F(RunIntegration, FrozenTensorsAreBitIdenticalBetweenConsecutivePhases) {
  const auto experiment = write_experiment();
  // The finished phases' periodic checkpoints are kept here: the earliest of phase 2 is the grown, untrained model.
  ASSERT_EQ(grove({"run", experiment.string(), "--set", "training.keep_finished_phase_checkpoints=true", "--set",
                   "strategy_overrides.shared=new_tokens", "--set", "strategy_overrides.rehearsal_share=0"})
                .exit_code,
            0);
  auto db = open_registry();
  const auto p0 = final_checkpoint(db, kTinyRun, 0);
  const auto p1 = final_checkpoint(db, kTinyRun, 1);
  const auto p2 = final_checkpoint(db, kTinyRun, 2);
  int frozen_checked = 0, trained_checked = 0;
  // grove with `shared: new_tokens`: shared weights, base experts and their gate rows freeze from phase 1 on; the
  // embedding and the LM head train only in the rows of tokens that no earlier distribution used.
  for (const auto& name : tensor_names(p0)) {
    if (name == "embed" || name == "lm_head") continue;
    EXPECT_EQ(tensor_bytes(p1, name), tensor_bytes(p2, name)) << name << " changed between phases 1 and 2";
    if (name.find(".moe.groups.") == std::string::npos) {
      EXPECT_EQ(tensor_bytes(p0, name), tensor_bytes(p1, name)) << name << " changed in phase 1";
    }
    ++frozen_checked;
  }
  const auto run_dir = dir_ / "work" / kTinyRun;
  for (const std::string name : {"embed", "lm_head"}) {
    const std::string b0 = tensor_bytes(p0, name), b1 = tensor_bytes(p1, name);
    const size_t row_bytes = 32 * sizeof(float);  // d_model 32, fp32 on the CPU
    ASSERT_EQ(b0.size() % row_bytes, 0u);
    const auto rows = used_rows(run_dir, 0);
    ASSERT_GT(rows.size(), 10u) << "phase 0's sketch counts its tokens";
    ASSERT_LT(rows.size(), b0.size() / row_bytes) << "some tokens are new to phase 1";
    for (const int64_t row : rows) {
      const size_t at = static_cast<size_t>(row) * row_bytes;
      ASSERT_EQ(b0.compare(at, row_bytes, b1, at, row_bytes), 0) << name << " row " << row << " changed in phase 1";
    }
    EXPECT_NE(b0, b1) << name << ": the rows of tokens new in phase 1 train";
  }
  for (const auto& name : tensor_names(p1)) {
    if (name.find(".moe.groups.1.w") != std::string::npos) {
      EXPECT_EQ(tensor_bytes(p1, name), tensor_bytes(p2, name)) << name << ": group 1 froze in phase 2";
      ++frozen_checked;
    }
  }
  // What trains did move: the newest group's experts and gate rows (against the earliest kept checkpoint of
  // phase 2).
  const auto run = registry::require_run(db, kTinyRun);
  const auto phase2 = registry::find_phase(db, run.id, 2);
  std::filesystem::path earliest;
  int64_t earliest_step = 1 << 30;
  for (const auto& row : registry::list_checkpoints(db, run.id, phase2->id)) {
    if (row.kind != registry::CheckpointKind::kPhaseEnd && row.step < earliest_step) {
      earliest_step = row.step;
      earliest = row.path;
    }
  }
  ASSERT_FALSE(earliest.empty());
  for (const auto& name : tensor_names(p2)) {
    if (name.find(".moe.groups.2.") != std::string::npos) {
      EXPECT_NE(tensor_bytes(earliest, name), tensor_bytes(p2, name)) << name << " did not train";
      ++trained_checked;
    }
  }
  EXPECT_GT(frozen_checked, 10);
  EXPECT_EQ(trained_checked, 2 * 4);
}

TEST_F(RunIntegration, GroveTrainsSharedWeightsUnderGeneratedRehearsalAndKeepsOldExpertsBitIdentical) {
  const auto experiment = write_experiment();
  ASSERT_EQ(grove({"run", experiment.string()}).exit_code, 0);
  auto db = open_registry();
  std::vector<std::filesystem::path> finals;
  for (const int64_t phase : {0, 1, 2}) finals.push_back(final_checkpoint(db, kTinyRun, phase));
  const auto &p0 = finals[0], &p1 = finals[1], &p2 = finals[2];
  int frozen_checked = 0, shared_checked = 0;
  for (const auto& name : tensor_names(p0)) {
    if (name.find(".moe.groups.0.w") != std::string::npos) {  // the base experts: frozen from phase 1 on
      EXPECT_EQ(tensor_bytes(p0, name), tensor_bytes(p2, name)) << name << " changed after phase 0";
      ++frozen_checked;
    } else if (name == "embed" || name.find(".attn.") != std::string::npos) {  // shared: they train every phase
      EXPECT_NE(tensor_bytes(p0, name), tensor_bytes(p1, name)) << name << " did not train in phase 1";
      EXPECT_NE(tensor_bytes(p1, name), tensor_bytes(p2, name)) << name << " did not train in phase 2";
      ++shared_checked;
    }
  }
  EXPECT_EQ(frozen_checked, 2 * 3);  // 2 layers × w1, w2, w3
  EXPECT_GT(shared_checked, 4);
  // The previous model wrote each later phase's rehearsal pool before its first step: batch_size 4 × 0.25 = one row
  // a batch, 12 steps → the minimum of 32 windows of seq_len + 1 tokens; none for phase 0.
  const auto run_dir = dir_ / "work" / kTinyRun;
  EXPECT_FALSE(std::filesystem::exists(run_dir / "rehearsal" / "phase-0.safetensors"));
  for (const int64_t phase : {1, 2}) {
    const model::SafetensorsReader pool(run_dir / "rehearsal" / ("phase-" + std::to_string(phase) + ".safetensors"));
    EXPECT_EQ(pool.info("tokens").shape, (std::vector<int64_t>{32, 33})) << "phase " << phase;
  }
  const auto run = registry::require_run(db, kTinyRun);
  for (const int64_t idx : {0, 1}) {
    bool distilled = false;
    for (const auto& row : registry::list_train_metrics(db, registry::find_phase(db, run.id, idx)->id)) {
      distilled = distilled || (row.kd_loss && *row.kd_loss > 0);
    }
    EXPECT_EQ(distilled, idx == 1) << "the rehearsal rows' distillation term is logged in phase " << idx;
  }
}

TEST_F(RunIntegration, EveryPhaseRecordsItsParametersTotalGrowsWithExpertsActiveStaysTheSame) {
  const auto experiment = write_experiment();
  const auto result =
      grove({"run", experiment.string(), "--set", "training.steps=2", "--set", "training.base_steps=2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = open_registry();
  const auto phases = registry::list_phases(db, registry::require_run(db, kTinyRun).id);
  ASSERT_EQ(phases.size(), 3u);
  for (const auto& phase : phases) {
    ASSERT_TRUE(phase.params_total.has_value()) << "phase " << phase.idx;
    ASSERT_TRUE(phase.params_active.has_value()) << "phase " << phase.idx;
    EXPECT_LT(*phase.params_active, *phase.params_total) << "phase " << phase.idx;
  }
  // tiny_experiment.yaml: 2 layers each grow 2 experts per phase; an expert is three 32x48 matrices plus its gate row.
  const int64_t per_growth = 2 * 2 * (3 * 32 * 48 + 32);
  for (size_t i = 1; i < phases.size(); ++i) {
    EXPECT_EQ(*phases[i].params_total - *phases[i - 1].params_total, per_growth) << "phase " << i;
    EXPECT_EQ(*phases[i].params_active, *phases[0].params_active) << "phase " << i << ": top-2 of more experts";
  }
}

TEST_F(RunIntegration, EveryPhaseRecordsWhereItsTimeWentAndLogsItsGoodput) {
  const auto experiment = write_experiment();
  const auto result = grove({"run", experiment.string(), "--set", "training.steps=6", "--set",
                             "training.base_steps=6", "--set", "training.checkpoint_every=3"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = open_registry();
  const auto phases = registry::list_phases(db, registry::require_run(db, kTinyRun).id);
  ASSERT_EQ(phases.size(), 3u);
  for (const auto& phase : phases) {
    const auto times = registry::find_phase_times(db, phase.id);
    ASSERT_TRUE(times.has_value()) << "phase " << phase.idx;
    EXPECT_EQ(times->train_tokens, 6 * 4 * 32) << "phase " << phase.idx << ": 6 steps of 4 × 32 tokens";
    // Setup (growth, the step-0 state, the first step), steps, checkpoint saves (step 0, 3 and the end) and the
    // evaluations before and after each take some time; other (pruning, bookkeeping) may round to nothing.
    EXPECT_GT(times->setup_s, 0) << "phase " << phase.idx;
    EXPECT_GT(times->training_s, 0) << "phase " << phase.idx;
    EXPECT_GT(times->checkpoint_s, 0) << "phase " << phase.idx;
    EXPECT_GT(times->eval_s, 0) << "phase " << phase.idx;
    EXPECT_GE(times->other_s, 0) << "phase " << phase.idx;
    ASSERT_TRUE(times->goodput().has_value());
    EXPECT_DOUBLE_EQ(*times->goodput(), 768.0 / times->wall_s());
  }
  // One goodput line per phase, at its end.
  size_t lines = 0;
  for (size_t at = 0; (at = result.err.find(" tokens/s: 768 training tokens in ", at)) != std::string::npos; ++at) {
    ++lines;
  }
  EXPECT_EQ(lines, 3u) << result.err;
}

TEST_F(RunIntegration, ChangedContentUnderANameTheRegistryHoldsIsRefusedWithAWayRunCanTake) {
  const auto corpus = dir_ / "notes.txt";
  auto write_notes = [&](const std::string& word) {
    std::ofstream out(corpus);
    for (int i = 0; i < 40; ++i) out << "Paragraph " << i << " of the " << word << " notes.\n\n";
  };
  write_notes("first");
  ASSERT_EQ(grove({"ingest", "notes", "--source", "text", "--path", corpus.string(), "--registry",
                   registry_path().string()})
                .exit_code,
            0);
  write_notes("second");
  const auto experiment = write_experiment(
      "tiny.yaml", "  - name: notes\n    source: text\n    doc_per: paragraph\n    paths: [" + corpus.string() + "]\n");
  const auto result = grove({"run", experiment.string()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("'notes' already exists"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("a name of its own in"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("--replace"), std::string::npos) << "grove run has no --replace: " << result.err;
}

TEST_F(RunIntegration, AWorkDirThatIsAFileIsRefusedBeforeAnyWork) {
  const auto experiment = write_experiment();
  const auto file = dir_ / "a-file";
  std::ofstream(file) << "not a folder\n";
  for (const auto& work_dir : {file, file / "below"}) {
    const auto result = grove({"run", experiment.string(), "--work-dir", work_dir.string()});
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find("is a file, not a folder"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(file.string()), std::string::npos) << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(registry_path())) << "nothing is written before the check";
}

TEST_F(RunIntegration, BadExperimentFilesExitTwoNamingTheProblemAndWriteNothing) {
  struct Case {
    std::string extra;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"evaluaton: {max_tokens: 10}\n", "unknown key 'evaluaton'"},
      {"", "expected an integer, got 'many'"},
      {"", "/no/such/corpus.txt"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto experiment = write_experiment("bad.yaml", cases[i].extra);
    std::vector<std::string> args = {"run", experiment.string()};
    if (i == 1) args.insert(args.end(), {"--set", "training.steps=many"});
    if (i == 2) args.insert(args.end(), {"--set", "distributions[1].paths=[/no/such/corpus.txt]"});
    const auto result = grove(args);
    EXPECT_EQ(result.exit_code, 2) << i << ": " << result.err;
    EXPECT_NE(result.err.find(cases[i].expected), std::string::npos) << i << ": " << result.err;
    EXPECT_FALSE(std::filesystem::exists(registry_path())) << "case " << i << " created the registry";
    EXPECT_FALSE(std::filesystem::exists(dir_ / "work")) << "case " << i << " created the work folder";
  }
}

}  // namespace
}  // namespace grove
