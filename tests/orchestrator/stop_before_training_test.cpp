// A stop request (SIGTERM) that arrives before training starts, while `grove run` ingests a distribution, trains the
// tokenizer or tokenizes, is acted on there: the process exits 143 at once, the registry holds nothing of the work
// it stopped (no distribution, tokenizer or shard rows, no run), no temporary is left, and the same command resumes.
// Each signal comes from the test hook GROVE_TEST_SIGTERM_AT (common/stop_flag.h) at a known point, not a timer.
#include <gtest/gtest.h>

#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;
namespace fs = std::filesystem;

class StopBeforeTraining : public RunFixture {
 protected:
  // `grove run` on the tiny experiment, SIGTERM raised at `point`.
  testing::ProcessResult run_stopped_at(const std::string& point) {
    testing::ProcessOptions options;
    options.env["GROVE_TEST_SIGTERM_AT"] = point;
    return testing::run_grove({"run", write_experiment().string(), "--set=training.threads=1"}, options);
  }
  // Entries left under grove-data/tmp (work in progress of an ingest or a tokenize that stopped).
  std::vector<std::string> temporaries() const {
    std::vector<std::string> names;
    if (!fs::exists(dir_ / "grove-data" / "tmp")) return names;
    for (const auto& entry : fs::directory_iterator(dir_ / "grove-data" / "tmp")) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }
  // The same command again finishes the run.
  void expect_resumes() {
    const auto result = grove({"run", write_experiment().string(), "--set=training.threads=1"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto db = open_registry();
    EXPECT_EQ(registry::require_run(db, kTinyRun).status, registry::RunStatus::kDone);
    EXPECT_TRUE(temporaries().empty());
  }
};

TEST_F(StopBeforeTraining, SigtermWhileIngestingStopsTheIngestAndRegistersNothingOfIt) {
  const auto result = run_stopped_at("ingest:de_computer");
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("ingesting distribution 'de_computer' stopped by SIGTERM before it finished"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("grove: error"), std::string::npos) << "a stop is no error: " << result.err;
  {
    auto db = open_registry();
    EXPECT_TRUE(registry::find_current_distribution(db, "en_science").has_value()) << "ingested before the signal";
    EXPECT_FALSE(registry::find_current_distribution(db, "de_computer").has_value());
    EXPECT_FALSE(registry::find_current_distribution(db, "py_tutorial").has_value()) << "never started";
    EXPECT_FALSE(registry::find_run(db, kTinyRun).has_value()) << "a run is recorded with its phases or not at all";
  }
  EXPECT_FALSE(fs::exists(dir_ / "grove-data" / "distributions" / "de_computer"));
  EXPECT_TRUE(temporaries().empty()) << "left: " << (temporaries().empty() ? "" : temporaries().front());
  expect_resumes();
}

TEST_F(StopBeforeTraining, SigtermWhileSentencePieceTrainsStopsWithoutWaitingForItAndRegistersNoTokenizer) {
  const auto result = run_stopped_at("SentencePiece training");
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("SentencePiece training stopped by SIGTERM before it finished"), std::string::npos)
      << result.err;
  {
    auto db = open_registry();
    EXPECT_TRUE(registry::list_tokenizers(db).empty());
    EXPECT_EQ(registry::list_distributions(db, true).size(), 3u) << "every distribution was ingested before";
    EXPECT_FALSE(registry::find_run(db, kTinyRun).has_value());
  }
  const auto models = dir_ / "grove-data" / "tokenizers";
  EXPECT_TRUE(!fs::exists(models) || fs::is_empty(models)) << "no model file is written";
  expect_resumes();
}

TEST_F(StopBeforeTraining, SigtermWhileTokenizingStopsBetweenChunksAndRegistersNoShardOfThatDistribution) {
  const auto result = run_stopped_at("tokenize:py_tutorial");
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("tokenizing 'py_tutorial' stopped by SIGTERM before it finished"), std::string::npos)
      << result.err;
  {
    auto db = open_registry();
    const auto tokenizers = registry::list_tokenizers(db);
    ASSERT_EQ(tokenizers.size(), 1u);
    const auto tokenized = [&](const std::string& name) {
      const auto distribution = registry::find_current_distribution(db, name);
      return distribution &&
             registry::find_shard(db, distribution->id, tokenizers[0].id, registry::Split::kTrain).has_value();
    };
    EXPECT_TRUE(tokenized("en_science")) << "tokenized before the signal";
    EXPECT_FALSE(tokenized("py_tutorial"));
    EXPECT_FALSE(registry::find_run(db, kTinyRun).has_value());
    const auto distribution = registry::find_current_distribution(db, "py_tutorial");
    ASSERT_TRUE(distribution.has_value());
    for (const auto& entry : fs::directory_iterator(dir_ / distribution->shard_dir)) {
      EXPECT_EQ(entry.path().filename().string().rfind("tokens-", 0), std::string::npos) << entry.path();
    }
  }
  EXPECT_TRUE(temporaries().empty()) << "left: " << (temporaries().empty() ? "" : temporaries().front());
  expect_resumes();
}

}  // namespace
}  // namespace grove
