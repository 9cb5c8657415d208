// Seeds as an experiment dimension, end to end through the binary: `seeds:` runs every (strategy, seed) pair under
// "<name>-<strategy>-s<seed>" with each run's own seed recorded; `grove report` on them adds the across-seeds
// section; `grove dump-config`'s output, run again, is the same runs. And run names that always carry the strategy
// still resume a run an earlier Grove named just "<name>", without colliding with another strategy's run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/orchestrator/run_fixture.h"
#include "tests/registry/raw_sql.h"

namespace grove {
namespace {

using testing::RunFixture;

// Two distributions, a few steps: enough for forgetting to exist, quick on two cores.
const std::vector<std::string> kShort = {
    "--set",
    "distributions=[{name: en_science, source: fortune, paths: [/usr/share/games/fortunes/science], "
    "holdout: 0.1}, {name: de_computer, source: fortune, paths: [/usr/share/games/fortunes/de/computer], "
    "holdout: 0.1}]",
    "--set",
    "tokenizer.train_on=[en_science, de_computer]",
    "--set",
    "training.steps=4",
    "--set",
    "training.base_steps=4"};

class SeedRuns : public RunFixture {
 protected:
  // tiny_experiment.yaml with its `seed:` and `strategy:` lines replaced.
  std::filesystem::path write_with(const std::string& seed_line, const std::string& strategy_line,
                                   const std::string& extra = "") {
    std::string text = testing::read_file(write_experiment());
    text.replace(text.find("seed: 7"), 7, seed_line);
    text.replace(text.find("strategy: grove"), 15, strategy_line);
    return testing::write_file(dir_ / "seeded.yaml", text + extra);
  }
  testing::ProcessResult run(const std::filesystem::path& experiment, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", experiment.string()};
    args.insert(args.end(), kShort.begin(), kShort.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return grove(args);
  }
  std::vector<std::string> run_names() {
    auto db = open_registry();
    std::vector<std::string> names;
    for (const auto& row : registry::list_runs(db)) names.push_back(row.name);
    return names;
  }
};

TEST_F(SeedRuns, EveryStrategySeedPairRunsWithItsOwnSeedAndReportAndDumpAgree) {
  const auto experiment = write_with("seeds: [7, 8]", "strategies: [grove, finetune]",
                                     "strategy_overrides: {grove: {replay_share: 0.25}}\n");
  auto result = run(experiment);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("compare them with `grove report"), std::string::npos) << result.out;
  const std::vector<std::string> expected = {"tiny-grove-s7", "tiny-finetune-s7", "tiny-grove-s8", "tiny-finetune-s8"};
  ASSERT_EQ(run_names(), expected);
  {
    auto db = open_registry();
    std::vector<double> first_bpb;
    for (const auto& name : expected) {
      const auto row = registry::require_run(db, name);
      const std::string seed = name.substr(name.size() - 1);
      EXPECT_EQ(row.seed, std::stoll(seed)) << name;
      EXPECT_NE(row.config_yaml.find("\nseeds: [" + seed + "]\n"), std::string::npos) << row.config_yaml;
      EXPECT_NE(row.config_yaml.find("\n  seed: " + seed + "\n"), std::string::npos) << "model.seed:\n"
                                                                                     << row.config_yaml;
      EXPECT_EQ(row.status, registry::RunStatus::kDone) << name;
      first_bpb.push_back(*registry::eval_matrix(db, row.id).after[0][0]);
    }
    EXPECT_NE(first_bpb[0], first_bpb[2]) << "seeds 7 and 8 of grove trained the same model";
  }

  // The report groups the seeds of each strategy.
  const auto out = dir_ / "report";
  std::vector<std::string> report = {"report", "--registry", registry_path().string(), "--out", out.string(), "--run"};
  report.insert(report.end(), expected.begin(), expected.end());
  result = grove(report);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string markdown = testing::read_file(out / "report.md");
  EXPECT_NE(markdown.find("## Across seeds"), std::string::npos);
  EXPECT_NE(markdown.find("| grove | 2 | 7, 8 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| finetune | 2 | 7, 8 |"), std::string::npos) << markdown;
  const auto metrics = nlohmann::json::parse(testing::read_file(out / "metrics.json"));
  ASSERT_EQ(metrics["across_seeds"]["groups"].size(), 2u);
  EXPECT_EQ(metrics["across_seeds"]["groups"][0]["runs"], (nlohmann::json{"tiny-grove-s7", "tiny-grove-s8"}));
  EXPECT_EQ(metrics["across_seeds"]["groups"][0]["ACC"]["used"], 2);

  // dump-config's output is the same experiment: run again, it finds every run done with the same stored config
  // (a dump without grove's own replay_share would make grove's stored config differ: exit 2).
  std::vector<std::string> dump = {"dump-config", experiment.string()};
  dump.insert(dump.end(), kShort.begin(), kShort.end());
  result = grove(dump);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("# runs: tiny-grove-s7, tiny-finetune-s7, tiny-grove-s8, tiny-finetune-s8"),
            std::string::npos)
      << result.out;
  const auto dumped = testing::write_file(dir_ / "dumped" / "dumped.yaml", result.out);
  result = grove({"run", dumped.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_names(), expected) << "the dump made other runs";
}

TEST_F(SeedRuns, ARunNamedBeforeNamesCarriedTheStrategyResumesUnderThatName) {
  const std::vector<std::string> base_only = {
      "--set",
      "distributions=[{name: en_science, source: fortune, paths: [/usr/share/games/fortunes/science], "
      "holdout: 0.1}]",
      "--set", "tokenizer.train_on=[en_science]"};
  const auto experiment = write_experiment();
  auto grove_run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", experiment.string(), "--set", "training.base_steps=4"};
    args.insert(args.end(), base_only.begin(), base_only.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return grove(args);
  };
  auto result = grove_run({});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(run_names(), std::vector<std::string>{"tiny-grove"});
  // What an earlier Grove recorded for this file of one strategy: the run named "tiny".
  testing::raw_sql(registry_path(), "UPDATE runs SET name = 'tiny' WHERE name = 'tiny-grove'");
  std::filesystem::rename(dir_ / "work" / "tiny-grove", dir_ / "work" / "tiny");

  result = grove_run({});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("run 'tiny': resuming it under its name from before run names carried the strategy"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(run_names(), std::vector<std::string>{"tiny"}) << "the old run was not resumed";

  // Another strategy is another run: "tiny-finetune", where both used to be "tiny" and collided.
  result = grove_run({"--strategy", "finetune"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_names(), (std::vector<std::string>{"tiny", "tiny-finetune"}));

  // A run of a file of several strategies stored its own name as the config's `name`; it resumes too.
  testing::raw_sql(registry_path(),
                   "UPDATE runs SET config_yaml = replace(config_yaml, 'name: tiny' || char(10), "
                   "'name: tiny-finetune' || char(10)) WHERE name = 'tiny-finetune'");
  {
    auto db = open_registry();
    ASSERT_EQ(registry::require_run(db, "tiny-finetune").config_yaml.rfind("name: tiny-finetune\n", 0), 0u);
  }
  result = grove_run({"--strategy", "finetune"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_names(), (std::vector<std::string>{"tiny", "tiny-finetune"}));
}

}  // namespace
}  // namespace grove
