// The report's "Across seeds" section: runs whose stored configurations differ only by seed are grouped (whatever
// form the seed took: `seed:`, `seeds: [...]`, model.seed), a run of another experiment or another configuration is
// not, each group's metrics are summarised as mean ± sample standard deviation, every pair of groups is judged by
// the seed-spread rule, and report.md, report.html and metrics.json carry it — only when some seed repeats.
#include "experiments/report/across_seeds.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "experiments/report/html_report.h"
#include "experiments/report/markdown_report.h"
#include "experiments/report/metrics_json.h"
#include "experiments/report/report_tables.h"

namespace grove::experiments::report {
namespace {

// A two-phase run: R_init = 8 everywhere, R[0] = {2.0, x}, R[1] = {b0, b1}; so ACC = (b0 + b1) / 2,
// forgetting = b0 − 2.0, BWT = 2.0 − b0, FWT = 8 − x and new-distribution bpb = b1.
RunData make_run(const std::string& name, const std::string& strategy, int64_t seed, const std::string& config,
                 double x, double b0, double b1) {
  RunData run;
  run.run.name = name;
  run.run.strategy = strategy;
  run.run.seed = seed;
  run.run.config_yaml = config;
  run.matrix.distributions = {"en", "de"};
  run.matrix.init = {8.0, 8.0};
  run.matrix.after = {{2.0, x}, {b0, b1}};
  run.metrics = registry::compute_forgetting_metrics(run.matrix);
  return run;
}

std::string config(const std::string& name, const std::string& strategy, const std::string& seed_line,
                   int64_t model_seed, int steps = 5) {
  return "name: " + name + "\n" + seed_line + "\nstrategies: [" + strategy +
         "]\nmodel: {d_model: 8, seed: " + std::to_string(model_seed) +
         "}\ntraining: {steps: " + std::to_string(steps) + "}\n";
}

// grove over seeds 1, 2, 3: ACC 2.2, 2.4, 2.6 (2.4 ± 0.2); forgetting 0.1, 0.3, 0.5 (0.3 ± 0.2); BWT the negatives;
// FWT 2.0, 1.8, 1.6 (1.8 ± 0.2); new bpb 2.3, 2.5, 2.7 (2.5 ± 0.2).
// finetune over seeds 1, 2: ACC 2.5, 2.6 (2.55 ± 0.0707); forgetting 1.0, 1.2 (1.1 ± 0.1414); new bpb 2.0 ± 0.
std::vector<RunData> seeded_runs() {
  std::vector<RunData> runs;
  runs.push_back(make_run("exp-grove-s1", "grove", 1, config("exp", "grove", "seeds: [1]", 1), 6.0, 2.1, 2.3));
  runs.push_back(make_run("exp-finetune-s1", "finetune", 1, config("exp", "finetune", "seeds: [1]", 1), 6.0, 3.0, 2.0));
  runs.push_back(make_run("exp-grove-s2", "grove", 2, config("exp", "grove", "seeds: [2]", 2), 6.2, 2.3, 2.5));
  runs.push_back(make_run("exp-finetune-s2", "finetune", 2, config("exp", "finetune", "seeds: [2]", 2), 6.0, 3.2, 2.0));
  // The same experiment run with `seed: 3`: still only the seed differs.
  runs.push_back(make_run("exp-grove", "grove", 3, config("exp", "grove", "seed: 3", 3), 6.4, 2.5, 2.7));
  return runs;
}

TEST(AcrossSeeds, RunsDifferingOnlyBySeedAreGroupedAndSummarised) {
  const auto runs = seeded_runs();
  const AcrossSeeds across = across_seeds(runs);
  ASSERT_EQ(across.groups.size(), 2u);
  const SeedGroup& grove = across.groups[0];
  const SeedGroup& finetune = across.groups[1];
  EXPECT_EQ(grove.experiment, "exp");
  EXPECT_EQ(grove.strategy, "grove");
  EXPECT_EQ(grove.seeds, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(finetune.seeds, (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(*grove.acc.mean, 2.4, 1e-12);
  EXPECT_NEAR(*grove.acc.stddev, 0.2, 1e-12);
  EXPECT_NEAR(*grove.forgetting.mean, 0.3, 1e-12);
  EXPECT_NEAR(*grove.forgetting.stddev, 0.2, 1e-12);
  EXPECT_NEAR(*grove.bwt.mean, -0.3, 1e-12);
  EXPECT_NEAR(*grove.fwt.mean, 1.8, 1e-12);
  EXPECT_NEAR(*grove.fwt.stddev, 0.2, 1e-12);
  EXPECT_NEAR(*grove.new_bpb.mean, 2.5, 1e-12);
  EXPECT_NEAR(*grove.new_bpb.stddev, 0.2, 1e-12);
  EXPECT_NEAR(*finetune.acc.mean, 2.55, 1e-12);
  EXPECT_NEAR(*finetune.acc.stddev, std::sqrt(0.005), 1e-12);
  EXPECT_NEAR(*finetune.forgetting.mean, 1.1, 1e-12);
  EXPECT_NEAR(*finetune.forgetting.stddev, std::sqrt(0.02), 1e-12);
  EXPECT_NEAR(*finetune.new_bpb.stddev, 0.0, 1e-12);

  // ACC: |2.4 − 2.55| = 0.15 ≤ 0.2 + 0.0707; forgetting: |0.3 − 1.1| = 0.8 > 0.2 + 0.1414.
  ASSERT_EQ(across.comparisons.size(), 2u);
  EXPECT_EQ(across.comparisons[0].metric, "ACC");
  EXPECT_EQ(across.comparisons[0].verdict, SpreadVerdict::kWithin);
  EXPECT_EQ(across.comparisons[1].metric, "forgetting");
  EXPECT_EQ(across.comparisons[1].verdict, SpreadVerdict::kDiffers);
  EXPECT_NEAR(*across.comparisons[1].difference, -0.8, 1e-12);

  const TextTable table = across_seeds_table(across);
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"grove", "3", "1, 2, 3", "2.400 ± 0.200", "+0.300 ± 0.200",
                                                     "-0.300 ± 0.200", "+1.800 ± 0.200", "2.500 ± 0.200"}));
  EXPECT_EQ(table.rows[1][3], "2.550 ± 0.071");
  const auto verdicts = across_seeds_verdicts(across);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0],
            "grove vs finetune, ACC: 2.400 vs 2.550 (difference -0.150, seed spread 0.200 + 0.071 = "
            "0.271): within the seed spread");
  EXPECT_EQ(verdicts[1],
            "grove vs finetune, forgetting: +0.300 vs +1.100 (difference -0.800, seed spread 0.200 + "
            "0.141 = 0.341): differs by more than the seed spread");
}

TEST(AcrossSeeds, AnotherExperimentOrConfigurationIsAGroupOfItsOwn) {
  auto runs = seeded_runs();
  runs.push_back(make_run("other-grove", "grove", 1, config("other", "grove", "seed: 1", 1), 6.0, 2.0, 2.0));
  runs.push_back(make_run("exp-grove-long", "grove", 4, config("exp", "grove", "seeds: [4]", 4, 50), 6.0, 2.0, 2.0));
  RunData unparsable = make_run("foreign", "grove", 1, "{not yaml", 6.0, 2.0, 2.0);
  runs.push_back(unparsable);
  const AcrossSeeds across = across_seeds(runs);
  ASSERT_EQ(across.groups.size(), 5u);
  EXPECT_EQ(across.groups[0].runs.size(), 3u);
  EXPECT_EQ(across.groups[2].experiment, "other");
  EXPECT_EQ(across.groups[3].runs.size(), 1u) << "training.steps differs: not the same experiment over seeds";
  EXPECT_EQ(across.groups[4].experiment, "foreign");
  EXPECT_EQ(group_label(across, 2), "grove (other)");
  EXPECT_EQ(group_label(across, 3), "grove (exp) [exp-grove-long]");
  const TextTable table = across_seeds_table(across);
  EXPECT_EQ(table.rows[2][3], "2.000 (one seed)");
  EXPECT_EQ(across_seeds_verdicts(across)[2].find("cannot be told") != std::string::npos, true)
      << across_seeds_verdicts(across)[2];
}

TEST(AcrossSeeds, MarkdownHtmlAndMetricsJsonCarryTheSectionOnlyWhenSeedsRepeat) {
  const auto runs = seeded_runs();
  const ReportContext context;
  const std::string markdown = markdown_report(runs, context);
  EXPECT_NE(markdown.find("## Across seeds"), std::string::npos);
  EXPECT_NE(markdown.find("| grove | 3 | 1, 2, 3 | 2.400 ± 0.200 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("differs by more than the seed spread"), std::string::npos);
  EXPECT_NE(markdown.find("Rule: two strategies differ by more than the seed spread"), std::string::npos);

  const std::string html = html_report(runs, context);
  EXPECT_NE(html.find("<section class=\"block\" id=\"across-seeds\">"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"#across-seeds\">"), std::string::npos);
  EXPECT_NE(html.find("2.400 ± 0.200"), std::string::npos);

  const auto json = nlohmann::json::parse(metrics_document(runs).dump());
  ASSERT_TRUE(json.contains("across_seeds"));
  const auto& groups = json["across_seeds"]["groups"];
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0]["strategy"], "grove");
  EXPECT_EQ(groups[0]["runs"], (nlohmann::json{"exp-grove-s1", "exp-grove-s2", "exp-grove"}));
  EXPECT_EQ(groups[0]["seeds"], (nlohmann::json{1, 2, 3}));
  EXPECT_NEAR(groups[0]["ACC"]["mean"].get<double>(), 2.4, 1e-12);
  EXPECT_NEAR(groups[0]["ACC"]["std"].get<double>(), 0.2, 1e-12);
  EXPECT_NEAR(groups[1]["forgetting"]["std"].get<double>(), std::sqrt(0.02), 1e-12);
  EXPECT_EQ(json["across_seeds"]["comparisons"][1]["verdict"], "differs");
  EXPECT_NE(json["across_seeds"]["rule"].get<std::string>().find("std_a + std_b"), std::string::npos);

  // One run per strategy: no seed repeats, no section.
  const std::vector<RunData> single = {runs[0], runs[1]};
  EXPECT_EQ(markdown_report(single, context).find("Across seeds"), std::string::npos);
  EXPECT_EQ(html_report(single, context).find("across-seeds"), std::string::npos);
  EXPECT_FALSE(metrics_document(single).contains("across_seeds"));
}

}  // namespace
}  // namespace grove::experiments::report
