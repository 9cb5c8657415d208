// `grove registry` as a user meets it: every query in every format on a registry whose names hold quotes,
// semicolons, newlines and non-ASCII; JSON parsed back with nlohmann_json, CSV with python3's csv module; tables
// within 100 columns; bad registries and bad options exit 2 naming what is wrong.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "orchestrator/cli/output_format.h"
#include "registry/database.h"
#include "registry/registry.h"
#include "tests/registry/sample_registry.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {
namespace fs = std::filesystem;
using testing::run_grove;

const std::string kRun = "o'brien \"q\"; DROP TABLE runs;--\nGrüße 日本 ñ";
const std::vector<std::string> kDistributions = {"en; \"fortunes\"", "de,\nZeile 2", "py 日本語"};
const std::vector<std::string> kQueries = {"runs", "distributions", "phases", "experts", "lineage", "evals",
                                           "forgetting"};

class RegistryCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>("grove-registry-cli");
    auto db = registry::Database::open(path());
    testing::populate_sample_run(db, kRun, kDistributions);
    testing::populate_sample_run(db, "baseline", kDistributions);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static fs::path path() { return dir_->path() / "grove.db"; }

  static testing::ProcessResult query(std::vector<std::string> args) {
    args.insert(args.begin(), "registry");
    args.insert(args.end(), {"--registry", path().string()});
    return run_grove(args);
  }

  static inline std::unique_ptr<testing::TempDir> dir_;
};

// Parses CSV with python3's csv module (RFC 4180, quoted newlines) and returns the records.
std::vector<std::vector<std::string>> parse_csv(const std::string& csv) {
  const std::string script =
      "import csv, io, json, sys\n"
      "rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline=''), strict=True))\n"
      "sys.stdout.write(json.dumps(rows))\n";
  const auto result = testing::run_process("/usr/bin/python3", {"-c", script}, {{}, csv, ""});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out).get<std::vector<std::vector<std::string>>>();
}

size_t column_of(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << name;
  return static_cast<size_t>(it - header.begin());
}

TEST_F(RegistryCli, EveryQueryWorksInEveryFormatAndParsesBack) {
  for (const std::string& sub : kQueries) {
    const auto table = query({sub, "--run", kRun});
    EXPECT_EQ(table.exit_code, 0) << sub << ": " << table.err;
    EXPECT_GE(std::count(table.out.begin(), table.out.end(), '\n'), 3) << sub << ":\n" << table.out;

    const auto json = query({sub, "--run", kRun, "--format", "json"});
    ASSERT_EQ(json.exit_code, 0) << sub << ": " << json.err;
    const auto parsed = nlohmann::json::parse(json.out);
    EXPECT_FALSE(parsed.empty()) << sub;

    const auto csv = query({sub, "--run", kRun, "--format", "csv"});
    ASSERT_EQ(csv.exit_code, 0) << sub << ": " << csv.err;
    const auto records = parse_csv(csv.out);
    ASSERT_GE(records.size(), 2u) << sub;
    for (const auto& record : records) EXPECT_EQ(record.size(), records.front().size()) << sub;
  }
}

TEST_F(RegistryCli, AwkwardNamesAreVerbatimInJson) {
  const auto runs = nlohmann::json::parse(query({"runs", "--format", "json"}).out);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["name"], kRun);
  EXPECT_EQ(runs[0]["status"], "done");
  const auto phases = nlohmann::json::parse(query({"phases", "--run", kRun, "--format", "json"}).out);
  ASSERT_EQ(phases.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(phases[i]["distribution"], kDistributions[i]);
  const auto forgetting = nlohmann::json::parse(query({"forgetting", "--run", kRun, "--format", "json"}).out);
  EXPECT_EQ(forgetting["run"], kRun);
  EXPECT_EQ(forgetting["distributions"].get<std::vector<std::string>>(), kDistributions);
}

TEST_F(RegistryCli, AwkwardNamesAreVerbatimInCsv) {
  const auto runs = parse_csv(query({"runs", "--format", "csv"}).out);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[1][column_of(runs[0], "name")], kRun);
  const auto distributions = parse_csv(query({"distributions", "--format", "csv"}).out);
  ASSERT_EQ(distributions.size(), 4u);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(distributions[j + 1][column_of(distributions[0], "name")], kDistributions[j]);
  const auto matrix = parse_csv(query({"forgetting", "--run", kRun, "--format", "csv"}).out);
  EXPECT_EQ(std::vector<std::string>(matrix[0].begin() + 1, matrix[0].begin() + 4), kDistributions);
}

TEST_F(RegistryCli, AwkwardNamesAreVerbatimInTablesLineByLine) {
  const auto runs = query({"runs"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("o'brien \"q\"; DROP TABLE runs;--"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("Grüße 日本 ñ"), std::string::npos) << runs.out;
  const auto phases = query({"phases", "--run", kRun});
  EXPECT_NE(phases.out.find("en; \"fortunes\""), std::string::npos) << phases.out;
  EXPECT_NE(phases.out.find("Zeile 2"), std::string::npos) << phases.out;
  EXPECT_NE(phases.out.find("py 日本語"), std::string::npos) << phases.out;
}

TEST_F(RegistryCli, PhasesShowWhereTheTimeWentAndTheGoodputInEveryFormat) {
  const auto table = query({"phases", "--run", kRun});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("time (s): wall = setup + training + checkpoint stalls + evaluation + other"),
            std::string::npos)
      << table.out;
  // 100 steps of 16 × 128 tokens in 50 s (phase 0) and 51 s (phase 1); the last phase has no row.
  EXPECT_NE(table.out.find("  phase 0: 50.0 = 2.5 + 40.0 + 3.0 + 4.0 + 0.5; goodput 4096 tokens/s\n"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("  phase 1: 51.0 = 3.5 + 40.0 + 3.0 + 4.0 + 0.5; goodput 4016 tokens/s\n"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("  phase 2: not recorded"), std::string::npos) << table.out;

  const auto json = nlohmann::json::parse(query({"phases", "--run", kRun, "--format", "json"}).out);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_DOUBLE_EQ(json[1]["setup_s"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(json[1]["training_s"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(json[1]["checkpoint_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(json[1]["eval_s"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(json[1]["other_s"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(json[1]["wall_s"].get<double>(), 51.0);
  EXPECT_EQ(json[1]["train_tokens"].get<int64_t>(), 204800);
  EXPECT_NEAR(json[1]["goodput_tokens_per_s"].get<double>(), 204800.0 / 51.0, 1e-6);
  EXPECT_TRUE(json[2]["wall_s"].is_null()) << "not recorded is null, not 0";

  const auto csv = parse_csv(query({"phases", "--run", kRun, "--format", "csv"}).out);
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[1][column_of(csv[0], "setup_s")], "2.5");
  EXPECT_EQ(csv[1][column_of(csv[0], "train_tokens")], "204800");
  EXPECT_EQ(csv[3][column_of(csv[0], "goodput_tokens_per_s")], "");
}

TEST_F(RegistryCli, TablesFitIn100Columns) {
  for (const std::string& sub : kQueries) {
    const auto result = query({sub, "--run", kRun});
    size_t start = 0;
    for (size_t end; (end = result.out.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string line = result.out.substr(start, end - start);
      EXPECT_LE(cli::display_width(line), 100) << sub << ": " << line;
    }
  }
}

TEST_F(RegistryCli, ForgettingReportsTheHandComputedMetrics) {
  const auto json = nlohmann::json::parse(query({"forgetting", "--run", kRun, "--format", "json"}).out);
  const auto& m = json["metrics"];
  EXPECT_NEAR(m["ACC"]["value"].get<double>(), 7.6 / 3.0, 1e-9);
  EXPECT_NEAR(m["BWT"]["value"].get<double>(), -0.65, 1e-9);
  EXPECT_NEAR(m["FWT"]["value"].get<double>(), 1.3, 1e-9);
  EXPECT_NEAR(m["forgetting"]["value"].get<double>(), 0.65, 1e-9);
  EXPECT_NEAR(m["max_forgetting"]["value"].get<double>(), 0.75, 1e-9);
  EXPECT_TRUE(json["after"][0][2].is_null());  // not ingested after phase 0: missing, not 0
  const auto table = query({"forgetting", "--run", kRun});
  EXPECT_NE(table.out.find("max_forgetting"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("2.5333"), std::string::npos) << table.out;
}

TEST_F(RegistryCli, LineageShowsAncestorsAndTheTree) {
  const auto ancestors =
      nlohmann::json::parse(query({"lineage", "--run", kRun, "--layer", "1", "--slot", "6", "--format", "json"}).out);
  ASSERT_EQ(ancestors.size(), 3u);
  EXPECT_EQ(ancestors[0]["slot"], 6);
  EXPECT_EQ(ancestors[1]["slot"], 4);
  EXPECT_EQ(ancestors[2]["slot"], 1);
  EXPECT_EQ(ancestors[2]["init"], "base");
  const auto tree = query({"lineage", "--run", kRun});
  EXPECT_NE(tree.out.find("└─ slot 4"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("   └─ slot 6"), std::string::npos) << tree.out;
  const auto flat = nlohmann::json::parse(query({"lineage", "--run", kRun, "--format", "json"}).out);
  EXPECT_EQ(flat.size(), 16u);  // 8 experts per layer, 2 layers
}

TEST_F(RegistryCli, RunIsRequiredWhenSeveralExistAndUnknownRunsAreNamed) {
  const auto ambiguous = query({"phases"});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_NE(ambiguous.err.find("--run"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("'baseline'"), std::string::npos) << ambiguous.err;
  const auto unknown = query({"evals", "--run", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("'nope'"), std::string::npos) << unknown.err;
  EXPECT_EQ(query({"runs", "--format", "xml"}).exit_code, 2);
  const auto half = query({"lineage", "--run", "baseline", "--layer", "0"});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.err.find("--slot"), std::string::npos) << half.err;
}

TEST_F(RegistryCli, AnExpertThatIsNotThereIsNamedWithItsRun) {
  const auto missing = query({"lineage", "--run", "baseline", "--layer", "1", "--slot", "99"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("run 'baseline' has no expert at layer 1 slot 99"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("grove registry experts --run baseline"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("run id"), std::string::npos) << missing.err;
}

TEST(RegistryCliFiles, ForgettingOfARunWithoutPhasesSaysSoInsteadOfTZero) {
  testing::TempDir dir;
  {
    auto db = registry::Database::open(dir / "grove.db");
    const int64_t tokenizer = registry::register_tokenizer(
        db, {"tok", registry::TokenizerKind::kUnigram, 4096, "/tmp/tok.model", {"en"}, 1 << 20});
    registry::create_run(db, {"fresh", "grove", "seed: 7\n", 7, tokenizer, "/tmp/work"});
  }
  const auto result = run_grove({"registry", "forgetting", "--run", "fresh", "--registry", (dir / "grove.db").string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("no phases yet, so no T and no metric"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("T = 0"), std::string::npos) << result.out;
}

TEST_F(RegistryCli, EveryQueryHasHelp) {
  for (const std::string& sub : kQueries) {
    const auto help = run_grove({"registry", sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub;
    EXPECT_NE(help.out.find("--format"), std::string::npos) << sub;
  }
}

TEST(RegistryCliFiles, MissingRegistryExitsTwoNamingItAndCreatesNothing) {
  testing::TempDir dir;
  const fs::path path = dir / "none.db";
  const auto result = run_grove({"registry", "runs", "--registry", path.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find(path.string()), std::string::npos) << result.err;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(RegistryCliFiles, RefusedFilesExitTwoAndStayByteIdentical) {
  testing::TempDir dir;
  const fs::path text = testing::write_file(dir / "notes.db", "not a database at all\n");
  const fs::path future = dir / "future.db";
  registry::Database::open(future);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(future.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 1000", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  for (const auto& [path, why] : {std::pair{text, "not a SQLite database"}, std::pair{future, "newer than this grove"}}) {
    const std::string before = testing::read_file(path);
    const auto result = run_grove({"registry", "runs", "--registry", path.string()});
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(path.string()), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(why), std::string::npos) << result.err;
    EXPECT_EQ(testing::read_file(path), before);
    EXPECT_FALSE(fs::exists(path.string() + "-wal"));
    EXPECT_FALSE(fs::exists(path.string() + "-shm"));
  }
}

TEST(RegistryCliFiles, DefaultsToGroveRegistryThenTheWorkingFolder) {
  testing::TempDir dir;
  {
    auto db = registry::Database::open(dir / "grove.db");
    testing::populate_sample_run(db, "in-cwd", {"a", "b", "c"});
  }
  {
    auto db = registry::Database::open(dir / "env.db");
    testing::populate_sample_run(db, "from-env", {"a", "b", "c"});
  }
  const auto cwd = run_grove({"registry", "runs"}, {{{"GROVE_REGISTRY", ""}}, "", dir.path().string()});
  EXPECT_EQ(cwd.exit_code, 0) << cwd.err;
  EXPECT_NE(cwd.out.find("in-cwd"), std::string::npos) << cwd.out;
  const auto env =
      run_grove({"registry", "runs"}, {{{"GROVE_REGISTRY", (dir / "env.db").string()}}, "", dir.path().string()});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_NE(env.out.find("from-env"), std::string::npos) << env.out;
}

}  // namespace
}  // namespace grove
