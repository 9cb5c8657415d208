// The report's "Routing specialisation": per layer, the share of each distribution's (token, k) assignments on the
// experts grown for it, read from the latest phase with routing rows of a hand-built registry; a distribution whose
// phase did not grow says "no growth" (never 0), one whose experts are newer than the rows n/a; report.md,
// report.html and metrics.json carry it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "experiments/report/html_report.h"
#include "experiments/report/markdown_report.h"
#include "experiments/report/metrics_json.h"
#include "experiments/report/report_tables.h"
#include "experiments/report/run_data.h"
#include "tests/experiments/report_fixture.h"

namespace grove::experiments::report {
namespace {

RunData specialisation_run() {
  auto db = registry::Database::open_in_memory();
  testing::populate_specialisation_fixture(db);
  return load_run_data(db, testing::kSpecialisationRun);
}

TEST(RoutingSpecialisation, SharesOnOwnExpertsMatchHandComputedValues) {
  const RunData run = specialisation_run();
  ASSERT_EQ(run.routing_phase, std::optional<size_t>(2)) << "the latest phase with routing rows";
  const RoutingSpecialisation spec = routing_specialisation(run);
  EXPECT_EQ(spec.distributions, testing::kSpecialisationDistributions);
  EXPECT_EQ(spec.no_growth, (std::vector<bool>{false, false, true, false}));
  ASSERT_EQ(spec.layers, (std::vector<int64_t>{0, 1}));
  // Layer 0: en (0.8 + 0.7) / 2 on its base experts, py (0.8 + 0.8) / 2 on phase 1's; the stale rows after phase 1
  // (everything on experts 2-3) would give en 0 and py 1.
  ASSERT_TRUE(spec.share[0][0] && spec.share[0][1]);
  EXPECT_NEAR(*spec.share[0][0], 0.75, 1e-12);
  EXPECT_NEAR(*spec.share[0][1], 0.80, 1e-12);
  ASSERT_TRUE(spec.share[1][0] && spec.share[1][1]);
  EXPECT_NEAR(*spec.share[1][0], 1.00, 1e-12) << "top-2 on its two own experts reaches 1.0";
  EXPECT_NEAR(*spec.share[1][1], 0.50, 1e-12);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_FALSE(spec.share[l][2]) << "py-more did not grow: no own experts, not a share of 0";
    EXPECT_FALSE(spec.share[l][3]) << "ru's experts were born after the routing rows";
  }

  const TextTable table = routing_specialisation_table(spec);
  EXPECT_EQ(table.header, (std::vector<std::string>{"layer", "en", "py", "py-more", "ru"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"0", "0.750", "0.800", "no growth", "n/a"}));
  EXPECT_EQ(table.rows[1], (std::vector<std::string>{"1", "1.000", "0.500", "no growth", "n/a"}));

  // The utilisation table's own-experts column says the same.
  const TextTable routing = routing_table(run);
  ASSERT_EQ(routing.rows.size(), 8u);
  EXPECT_EQ(routing.rows[0][3], "75.0%");
  EXPECT_EQ(routing.rows[2][3], "no growth");
}

TEST(RoutingSpecialisation, ARunWithoutRoutingHasNoLayers) {
  auto db = registry::Database::open_in_memory();
  testing::populate_report_fixture(db);
  const RunData finetune = load_run_data(db, testing::kFinetuneRun);
  const RoutingSpecialisation spec = routing_specialisation(finetune);
  EXPECT_EQ(spec.distributions.size(), 4u);
  EXPECT_TRUE(spec.layers.empty());
  EXPECT_TRUE(routing_specialisation_table(spec).rows.empty());
  EXPECT_EQ(metrics_document({finetune})["runs"][0]["routing_specialisation"], nlohmann::ordered_json::object());
  EXPECT_NE(markdown_report({finetune}, ReportContext{}).find("### Routing specialisation\n\nNo routing statistics "
                                                              "recorded."),
            std::string::npos);
}

TEST(RoutingSpecialisation, MarkdownHtmlAndMetricsJsonCarryIt) {
  const std::vector<RunData> runs = {specialisation_run()};
  const ReportContext context;
  const std::string markdown = markdown_report(runs, context);
  EXPECT_NE(markdown.find("### Routing specialisation"), std::string::npos);
  EXPECT_NE(markdown.find("| layer | en | py | py-more | ru |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| 0 | 0.750 | 0.800 | no growth | n/a |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| 1 | 1.000 | 0.500 | no growth | n/a |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("Routing after phase 2 · py-more: per layer, the share of each distribution's (token, k) "
                          "assignments that land on the experts grown for it"),
            std::string::npos)
      << markdown;

  const std::string html = html_report(runs, context);
  EXPECT_NE(html.find("<h3>Routing specialisation</h3>"), std::string::npos);
  EXPECT_NE(html.find("1.0 = only its own experts; with top-k = 2 and two own experts it can reach 1.0"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.750</td><td class=\"num\">0.800</td>"
                      "<td class=\"num na\">no growth</td><td class=\"num na\">n/a</td>"),
            std::string::npos)
      << html;

  const auto json = nlohmann::json::parse(metrics_document(runs).dump());
  const auto& spec = json["runs"][0]["routing_specialisation"];
  ASSERT_EQ(spec.size(), 2u) << spec;
  EXPECT_NEAR(spec["0"]["en"].get<double>(), 0.75, 1e-12);
  EXPECT_NEAR(spec["0"]["py"].get<double>(), 0.80, 1e-12);
  EXPECT_NEAR(spec["1"]["en"].get<double>(), 1.00, 1e-12);
  EXPECT_NEAR(spec["1"]["py"].get<double>(), 0.50, 1e-12);
  EXPECT_TRUE(spec["0"]["py-more"].is_null());
  EXPECT_TRUE(spec["1"]["ru"].is_null());
}

TEST(StrategySettings, SayWhatTheSharedPolicyRoutingIsolationAndRehearsalDid) {
  RunData run;
  run.run.config_yaml =
      "strategy_overrides: {growth: always, experts: newest, gate: new_rows, shared: new_tokens, kd_weight: 0, "
      "kd_temperature: 2, replay_share: 0, isolation_weight: 1}\n";
  EXPECT_EQ(strategy_settings(run),
            "growth always · old experts frozen · gate: new rows train · shared weights frozen but new tokens' rows · "
            "routing isolation 1 · KD off · no replay");
  run.run.config_yaml = "strategy_overrides: {growth: always, experts: newest, gate: new_rows, shared: orthogonal}\n";
  EXPECT_NE(strategy_settings(run).find("shared updates projected off earlier inputs"), std::string::npos);
  EXPECT_EQ(strategy_settings(run).find("routing isolation"), std::string::npos) << "off when the key is absent";
  EXPECT_EQ(strategy_settings(run).find("rehearsal"), std::string::npos) << "off when the key is absent";
  run.run.config_yaml =
      "strategy_overrides: {growth: novelty, experts: newest, gate: new_rows, shared: trainable, "
      "rehearsal_share: 0.25, rehearsal_weight: 0.5}\n";
  EXPECT_NE(strategy_settings(run).find("shared weights train"), std::string::npos);
  EXPECT_NE(strategy_settings(run).find("generated rehearsal 25 % of each batch (distilled, weight 0.5)"),
            std::string::npos)
      << strategy_settings(run);
}

}  // namespace
}  // namespace grove::experiments::report
