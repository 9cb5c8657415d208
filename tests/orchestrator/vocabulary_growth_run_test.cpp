// Vocabulary growth end to end through the binary: with a tokenizer trained on the base distribution alone and
// tokenizer.grow_pieces set, each later phase records a grown tokenizer (old pieces first, its distribution added to
// trained_on), the model's rows follow it, every evaluation cell is there, the phase-end model exports with the
// grown tokenizer; with frozen shared weights only the appended embedding and LM-head rows train; and a run stopped
// by SIGTERM in a grown phase resumes bit-identical to an uninterrupted one (its teacher is grown again on resume).
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;

const std::vector<std::string> kBaseOnly = {"--set", "tokenizer.train_on=[en_science]", "--set",
                                            "tokenizer.grow_pieces=800"};

class VocabularyGrowthRun : public RunFixture {
 protected:
  testing::ProcessResult run(const std::filesystem::path& experiment, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", experiment.string()};
    args.insert(args.end(), kBaseOnly.begin(), kBaseOnly.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return grove(args);
  }
};

TEST_F(VocabularyGrowthRun, EachNewDistributionGrowsTheTokenizerAndTheModelFollows) {
  const auto experiment = write_experiment();
  const auto result = run(experiment);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  auto db = open_registry();
  const auto run_row = registry::require_run(db, kTinyRun);
  const auto phases = registry::list_phases(db, run_row.id);
  ASSERT_EQ(phases.size(), 3u);
  const auto base = registry::find_tokenizer(db, *run_row.tokenizer_id);
  EXPECT_EQ(base->trained_on, std::vector<std::string>{"en_science"});
  EXPECT_FALSE(phases[0].tokenizer_id.has_value()) << "the base phase trains with the run's tokenizer";
  int64_t previous_vocab = *base->vocab_size;
  std::vector<std::string> trained_on = {"en_science"};
  for (size_t i = 1; i < phases.size(); ++i) {
    ASSERT_TRUE(phases[i].tokenizer_id.has_value()) << "phase " << i;
    const auto tokenizer = registry::find_tokenizer(db, *phases[i].tokenizer_id);
    const auto distribution = registry::find_distribution(db, phases[i].distribution_id);
    trained_on.push_back(distribution->name);
    EXPECT_EQ(tokenizer->trained_on, trained_on) << "phase " << i;
    EXPECT_GT(*tokenizer->vocab_size, previous_vocab) << "phase " << i << " added no piece";
    previous_vocab = *tokenizer->vocab_size;
    const auto checkpoint = final_checkpoint(db, kTinyRun, static_cast<int64_t>(i));
    const auto metadata = nlohmann::json::parse(testing::read_file(checkpoint / "metadata.json"));
    EXPECT_EQ(metadata.at("config").at("vocab_size").get<int64_t>(), *tokenizer->vocab_size)
        << "phase " << i << "'s model has a row per piece";
  }
  int grown_events = 0;
  for (const auto& event : registry::list_events(db, run_row.id)) grown_events += event.kind == "vocabulary_grown";
  EXPECT_EQ(grown_events, 2);
  const auto matrix = registry::eval_matrix(db, run_row.id);
  for (size_t i = 0; i < matrix.after.size(); ++i) {
    for (size_t j = 0; j < matrix.after[i].size(); ++j) EXPECT_TRUE(matrix.after[i][j].has_value()) << i << "," << j;
  }

  // The last phase's model exports with the last phase's tokenizer.
  const auto last = registry::find_tokenizer(db, *phases.back().tokenizer_id);
  const auto tokenizer_file = registry_path().parent_path() / last->model_path;  // stored relative to the registry
  const auto out = dir_ / "export";
  const auto exported = grove({"export", "hf", "--checkpoint", final_checkpoint(db, kTinyRun, 2).string(),
                               "--tokenizer", tokenizer_file.string(), "--out", out.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto config = nlohmann::json::parse(testing::read_file(out / "config.json"));
  EXPECT_EQ(config.at("vocab_size").get<int64_t>(), *last->vocab_size);
}

TEST_F(VocabularyGrowthRun, WithFrozenSharedWeightsOnlyTheAppendedRowsTrain) {
  const auto experiment = write_experiment("tiny.yaml", "strategy_overrides: {grove: {shared: frozen}}\n");
  const auto result = run(experiment);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = open_registry();
  const auto phase0 = final_checkpoint(db, kTinyRun, 0), phase1 = final_checkpoint(db, kTinyRun, 1);
  const auto d_model = nlohmann::json::parse(testing::read_file(phase0 / "metadata.json"))
                           .at("config").at("d_model").get<size_t>();
  for (const std::string name : {"embed", "lm_head"}) {
    const std::string before = testing::tensor_bytes(phase0, name), after = testing::tensor_bytes(phase1, name);
    ASSERT_GT(after.size(), before.size()) << name << " did not grow";
    EXPECT_EQ(after.substr(0, before.size()), before) << name << ": an old row moved";
  }
  // The appended LM-head rows all start as the mean old row: training made them differ.
  const std::string before = testing::tensor_bytes(phase0, "lm_head"), after = testing::tensor_bytes(phase1, "lm_head");
  const size_t row_bytes = d_model * sizeof(float);
  EXPECT_NE(after.substr(before.size(), row_bytes), after.substr(before.size() + row_bytes, row_bytes))
      << "the appended LM-head rows did not train";
}

TEST_F(VocabularyGrowthRun, SigtermInAGrownPhaseThenResumeEqualsAnUninterruptedRun) {
  const std::vector<std::string> longer = {"--set", "training.steps=40"};
  testing::TempDir reference_dir("grove-ref");
  const auto reference_yaml =
      testing::write_file(reference_dir / "tiny.yaml", testing::read_file(write_experiment()));
  ASSERT_EQ(run(reference_yaml, longer).exit_code, 0);

  const auto experiment = write_experiment();
  {
    std::vector<std::string> args = {"run", experiment.string()};
    args.insert(args.end(), kBaseOnly.begin(), kBaseOnly.end());
    args.insert(args.end(), longer.begin(), longer.end());
    const auto stopped = run_until_sigterm(args, 2, 8);
    EXPECT_EQ(stopped.exit_code, 143) << stopped.err;
  }
  const auto resumed = run(experiment, longer);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming at step"), std::string::npos) << resumed.err;
  auto db = open_registry();
  auto reference_db = registry::Database::open(reference_dir / "grove.db", registry::OpenMode::kReadOnly);
  expect_same_results(db, reference_db);
}

}  // namespace
}  // namespace grove
