// `grove report` as a user meets it, through the real binary on a registry file built through the registry API:
// the four files, metrics.json equal to `grove registry forgetting --format json`, evals.csv readable by Python's
// csv module, report.md with the matrix and metrics, report.html with one drawn SVG per figure and nothing
// external, bad input refused with exit 2 and nothing written.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "registry/database.h"
#include "tests/experiments/report_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

class ReportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = registry::Database::open(db_path_);
    counts_ = testing::populate_report_fixture(db);
  }

  testing::ProcessResult report(const std::vector<std::string>& runs, const fs::path& out) {
    std::vector<std::string> args{"report", "--registry", db_path_.string(), "--out", out.string()};
    for (const auto& run : runs) {
      args.push_back("--run");
      args.push_back(run);
    }
    return testing::run_grove(args);
  }

  // What the test folder holds besides the registry (and its -wal/-shm files), sorted.
  std::vector<std::string> report_entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("grove.db", 0) != 0) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  testing::TempDir dir_{"grove-report"};
  fs::path db_path_ = dir_ / "grove.db";
  testing::FixtureCounts counts_;
};

TEST_F(ReportCommand, WritesFourFilesWhoseMetricsEqualTheRegistryForgettingCommand) {
  const fs::path out = dir_ / "report";
  const auto result = report({testing::kGroveRun, testing::kFinetuneRun}, out);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find((out / "report.html").string()), std::string::npos) << result.out;
  for (const char* file : {"report.md", "report.html", "metrics.json", "evals.csv"}) {
    EXPECT_GT(fs::file_size(out / file), 100u) << file;
  }

  const json document = json::parse(testing::read_file(out / "metrics.json"));
  ASSERT_EQ(document["runs"].size(), 2u);
  for (size_t r = 0; r < 2; ++r) {
    const std::string name = r == 0 ? testing::kGroveRun : testing::kFinetuneRun;
    const auto cli = testing::run_grove(
        {"registry", "forgetting", "--registry", db_path_.string(), "--run", name, "--format", "json"});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    const json expected = json::parse(cli.out);
    ASSERT_TRUE(expected.contains("metrics")) << cli.out;
    for (const auto& [key, value] : expected.items()) {
      EXPECT_EQ(document["runs"][r][key], value) << name << ": key " << key;
    }
  }
  // And the values are the fixture's: grove drifts 0.03 bpb per later phase, so mean forgetting is 0.06.
  EXPECT_NEAR(document["runs"][0]["metrics"]["forgetting"]["value"].get<double>(), 0.06, 1e-12);
  EXPECT_NEAR(document["runs"][1]["metrics"]["forgetting"]["value"].get<double>(), (1.35 + 0.45) / 2, 1e-12);
  EXPECT_EQ(document["runs"][1]["metrics"]["forgetting"]["missing"].get<int>(), 1);
  EXPECT_NEAR(document["runs"][0]["new_distribution_bpb"]["mean"].get<double>(), (2.30 + 2.05 + 2.70) / 3, 1e-12);
  const json& specialisation = document["runs"][0]["routing_specialisation"];
  EXPECT_NEAR(specialisation["1"][testing::kFixtureDistributions[0]].get<double>(), 25.2 / 30.7, 1e-12);
  EXPECT_TRUE(specialisation["1"][testing::kFixtureDistributions[2]].is_null()) << "no growth, not 0";
  EXPECT_EQ(document["runs"][1]["routing_specialisation"], json::object()) << "finetune recorded no routing";
}

TEST_F(ReportCommand, EvalsCsvParsesBackWithOneRowPerEvaluation) {
  const fs::path out = dir_ / "report";
  ASSERT_EQ(report({testing::kGroveRun, testing::kFinetuneRun}, out).exit_code, 0);
  const std::string script =
      "import csv, json, sys\n"
      "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
      "    reader = csv.DictReader(f)\n"
      "    print(json.dumps({'header': reader.fieldnames, 'rows': list(reader)}))\n";
  const auto parsed = testing::run_process("/usr/bin/python3", {"-c", script, (out / "evals.csv").string()});
  ASSERT_EQ(parsed.exit_code, 0) << parsed.err;
  const json csv = json::parse(parsed.out);
  EXPECT_EQ(csv["header"], json({"run", "strategy", "phase_idx", "phase_distribution", "eval_distribution", "split",
                                 "stage", "bpb", "loss", "ppl", "tokens", "bytes"}));
  ASSERT_EQ(csv["rows"].size(), counts_.grove_evals + counts_.finetune_evals);
  size_t matched = 0;
  for (const auto& row : csv["rows"]) {
    if (row["run"] != testing::kGroveRun || row["stage"] != "after" || row["phase_idx"] != "3") continue;
    for (size_t j = 0; j < testing::kFixtureDistributions.size(); ++j) {
      if (row["eval_distribution"] != testing::kFixtureDistributions[j]) continue;
      EXPECT_EQ(row["phase_distribution"], testing::kFixtureDistributions[3]);
      EXPECT_EQ(std::stod(row["bpb"].get<std::string>()), testing::fixture_bpb("grove", 3, j));
      ++matched;
    }
  }
  EXPECT_EQ(matched, 4u);
}

TEST_F(ReportCommand, MarkdownShowsTheMatrixAndTheMetrics) {
  const fs::path out = dir_ / "report";
  ASSERT_EQ(report({testing::kGroveRun, testing::kFinetuneRun}, out).exit_code, 0);
  const std::string md = testing::read_file(out / "report.md");
  EXPECT_NE(md.find("## Comparison"), std::string::npos);
  EXPECT_NE(md.find("### Forgetting matrix"), std::string::npos);
  EXPECT_NE(md.find("Strategy as trained: growth novelty · old experts frozen (a phase without growth trains the "
                    "most similar distribution's) · gate: new rows train · shared weights train · KD off · replay "
                    "25 % of each batch."),
            std::string::npos)
      << "the settings the run stored, not just the preset's name";
  EXPECT_NE(md.find("Strategy as trained: growth never · all experts train · gate trains · shared weights train · "
                    "KD off · no replay."),
            std::string::npos);
  // Row "after phase 3" of the grove run: 2.10 + 3 x 0.03, 2.30 + 2 x 0.03, 2.05 + 0.03, 2.70.
  EXPECT_NE(md.find("| after phase 3 · ru «фортунки» | 2.190 | 2.360 | 2.080 | 2.700 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| untrained | 8.100 | 8.300 | 8.000 | 8.400 |"), std::string::npos);
  EXPECT_NE(md.find("| [forgetting](docs/METRICS.md#definitions) | +0.060 | +0.090 | +0.060 | +0.030 | – |"),
            std::string::npos);
  EXPECT_NE(md.find("| [BWT](docs/METRICS.md#definitions) | -0.060 |"), std::string::npos);
  // The finetune run's missing cells read n/a, never 0; its untrained row lacks R_init of the third column.
  EXPECT_NE(md.find("| untrained | 8.100 | 8.300 | n/a | 8.400 |"), std::string::npos);
  // Routing specialisation after phase 3, layer 0 (report_fixture.cpp's weights): en-fortunes 24.9 / 30.1 on the
  // base group, de-fortunes 12.9 / 20.1 on phase 1's experts, python's phase did not grow, ru 12.3 / 20.1.
  EXPECT_NE(md.find("### Routing specialisation"), std::string::npos);
  EXPECT_NE(md.find("| 0 | 0.827 | 0.642 | no growth | 0.612 |"), std::string::npos) << md;
  // Where the time went (report_fixture.cpp): phase 0 spent 37 s on 30 steps of 16 × 128 tokens; the finetune
  // run's phase 2 has no times.
  EXPECT_NE(md.find("### Where the time went"), std::string::npos);
  EXPECT_NE(md.find(" | 37.0 | 1.5 | 30.0 | 2.0 | 3.0 | 0.5 | 61,440 | 1,661 |"), std::string::npos) << md;
  EXPECT_NE(md.find(" | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a |"), std::string::npos) << md;
  // Names are escaped for Markdown and HTML: the quotes stay, '<' and '&' become references.
  EXPECT_NE(md.find("python \"docs\" &lt;3.11&gt; &amp; co"), std::string::npos);
  EXPECT_EQ(md.find("<A&B>"), std::string::npos);
}

TEST_F(ReportCommand, HtmlDrawsOneNonEmptySvgPerFigureAndLoadsNothing) {
  const fs::path out = dir_ / "report";
  ASSERT_EQ(report({testing::kGroveRun, testing::kFinetuneRun}, out).exit_code, 0);
  const std::string html = testing::read_file(out / "report.html");
  // 3 comparison figures; grove: matrix, change, bpb, 2 routing layers, 2 lineage layers, parameters, time split,
  // loss, KD, aux; finetune: matrix, change, bpb, 1 lineage chart (both layers alike), parameters, time split, loss,
  // aux.
  EXPECT_EQ(count_of(html, "<figure"), 3u + 12u + 8u);
  const std::regex drawn("<(rect|path|line|circle|polyline)[ >]");
  for (size_t at = html.find("<figure"); at != std::string::npos; at = html.find("<figure", at + 1)) {
    const std::string figure = html.substr(at, html.find("</figure>", at) - at);
    const size_t svg = figure.find("<svg");
    ASSERT_NE(svg, std::string::npos) << figure.substr(0, 200);
    const std::string body = figure.substr(svg);
    const auto shapes = std::distance(std::sregex_iterator(body.begin(), body.end(), drawn), std::sregex_iterator());
    EXPECT_GE(shapes, 5) << figure.substr(0, 200);
  }
  EXPECT_EQ(count_of(html, "<svg"), count_of(html, "<figure"));
  // Self-contained: no script, stylesheet link, import or remote URL (the SVG namespace is an identifier only).
  for (const char* forbidden : {"<script", "<link", "@import", "<img", "<iframe"}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  }
  EXPECT_EQ(count_of(html, "http"), count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  // Escaping: the run name appears only escaped; missing cells are hatched "n/a".
  EXPECT_EQ(html.find("<A&B>"), std::string::npos);
  EXPECT_NE(html.find("grove &quot;demo&quot; &lt;A&amp;B&gt;"), std::string::npos);
  EXPECT_NE(html.find("run1-matrix-hatch"), std::string::npos);
  // Where the time went: phase 0 of the grove run spent 37 s on 61,440 training tokens; the finetune run's phase 2
  // has no times and is a hatched stub, not a zero.
  EXPECT_NE(html.find("Goodput (training tokens per second of wall time): phase 0: 1,661 tokens/s"), std::string::npos);
  EXPECT_NE(html.find("training — phase 0 · "), std::string::npos);
  EXPECT_NE(html.find("run1-time-hatch"), std::string::npos) << "the finetune run (run1) lacks phase 2's times";
  EXPECT_EQ(html.find("run0-time-hatch"), std::string::npos) << "the grove run (run0) has every phase's";
}

TEST_F(ReportCommand, AMissingRunIsBadInputNamingItAndTheRunsThatExist) {
  const fs::path out = dir_ / "report";
  const auto result = report({testing::kGroveRun, "no-such-run"}, out);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("no-such-run"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(testing::kFinetuneRun), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(report_entries(), std::vector<std::string>{}) << "nothing but the registry beside it";
}

TEST_F(ReportCommand, AFolderWithOtherFilesIsRefusedAndAnEarlierReportIsReplacedWhole) {
  const fs::path notes = testing::write_file(dir_ / "mine" / "notes.txt", "keep me");
  const auto refused = report({testing::kGroveRun}, dir_ / "mine");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("notes.txt"), std::string::npos) << refused.err;
  EXPECT_EQ(testing::read_file(notes), "keep me");

  const fs::path out = dir_ / "report";
  ASSERT_EQ(report({testing::kGroveRun, testing::kFinetuneRun}, out).exit_code, 0);
  ASSERT_EQ(report({testing::kFinetuneRun}, out).exit_code, 0);
  const json document = json::parse(testing::read_file(out / "metrics.json"));
  ASSERT_EQ(document["runs"].size(), 1u);
  EXPECT_EQ(document["runs"][0]["run"], testing::kFinetuneRun);
  // No staging folder or moved-aside report is left beside it.
  EXPECT_EQ(report_entries(), (std::vector<std::string>{"mine", "report"}));
}

TEST_F(ReportCommand, TheRegistryComesFromTheEnvironmentAndAMissingOneIsBadInput) {
  const fs::path out = dir_ / "from-env";
  const auto result = testing::run_grove({"report", "--run", testing::kFinetuneRun, "--out", out.string()},
                                         {{{"GROVE_REGISTRY", db_path_.string()}}, "", ""});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(out / "report.html"));
  const auto missing = testing::run_grove(
      {"report", "--run", "x", "--out", (dir_ / "none").string(), "--registry", (dir_ / "absent.db").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("absent.db"), std::string::npos) << missing.err;
}

TEST_F(ReportCommand, HelpNamesEveryOption) {
  const auto help = testing::run_grove({"report", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option : {"--run", "--out", "--registry", "--metrics-doc"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace grove
