// Setting a run up before it trains: every corpus file of the timeline is looked at before the first distribution
// is ingested, a run is recorded with its phases or not at all, and a resumed run notices a missing or corrupt
// tokenizer model (as `grove tokenizer list` does) with the file named and the command that writes it again.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/orchestrator/run_fixture.h"
#include "tests/registry/raw_sql.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;

class RunSetup : public RunFixture {
 protected:
  // A base-only run (the first distribution): the quickest run that has a tokenizer.
  std::vector<std::string> base_run_args(const std::filesystem::path& experiment) const {
    const std::string base_only =
        "distributions=[{name: en_science, source: fortune, paths: [/usr/share/games/fortunes/science], holdout: 0.1}]";
    return {"run", experiment.string(), "--set", base_only, "--set", "tokenizer.train_on=[en_science]"};
  }
  // The model file of the registry's only tokenizer.
  std::filesystem::path tokenizer_model() const {
    std::vector<std::filesystem::path> models;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "grove-data" / "tokenizers")) {
      if (entry.path().extension() == ".model") models.push_back(entry.path());
    }
    EXPECT_EQ(models.size(), 1u);
    return models.empty() ? std::filesystem::path() : models.front();
  }
};

TEST_F(RunSetup, AnEmptyOrBinaryCorpusFileInAnyDistributionIsRefusedBeforeTheFirstIsIngested) {
  const auto experiment = write_experiment();
  const auto empty = testing::write_file(dir_ / "corpus" / "empty.txt", "");
  const auto blank = testing::write_file(dir_ / "corpus" / "blank.txt", "\n\n  \n");
  const std::string elf_header("\177ELF\2\1\1\0\0\0", 10);
  const auto binary = testing::write_file(dir_ / "corpus" / "data.txt", elf_header + std::string(4000, '\3'));
  struct Case {
    std::string paths;
    std::vector<std::string> expected;
  };
  const std::string py_tutorial = "/usr/share/doc/python3.11/html/_sources/tutorial/*.rst.txt";
  const std::vector<Case> cases = {
      {fmt::format("[{}]", empty.string()),
       {"distribution 'py_tutorial'", "empty corpus: its only file is empty or blank", empty.string()}},
      {fmt::format("[{}, {}]", empty.string(), blank.string()),
       {"every one of its files is empty or blank", empty.string(), blank.string()}},
      {fmt::format("[{}, {}, {}]", blank.string(), py_tutorial, binary.string()),
       {"distribution 'py_tutorial'", binary.string(), "looks like a binary file", "expected UTF-8 text"}},
  };
  for (const auto& c : cases) {
    const auto result = grove({"run", experiment.string(), "--set", "distributions[2].paths=" + c.paths});
    EXPECT_EQ(result.exit_code, 2) << c.paths << ": " << result.err;
    for (const auto& expected : c.expected) {
      EXPECT_NE(result.err.find(expected), std::string::npos) << c.paths << ": " << result.err;
    }
    EXPECT_FALSE(std::filesystem::exists(registry_path())) << c.paths << ": the first distributions were ingested";
  }
}

TEST_F(RunSetup, ARunIsRecordedWithItsPhasesOrNotAtAll) {
  // A registry that refuses phase rows stands for a process killed between the run's row and its phases'.
  registry::Database::open(registry_path(), registry::OpenMode::kReadWrite);
  testing::raw_sql(registry_path(),
                   "CREATE TRIGGER no_phases BEFORE INSERT ON phases "
                   "BEGIN SELECT RAISE(ABORT, 'no phase may be written'); END;");
  const auto experiment = write_experiment();
  const auto refused = grove(base_run_args(experiment));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("no phase may be written"), std::string::npos) << refused.err;
  {
    auto db = open_registry();
    EXPECT_FALSE(registry::find_run(db, kTinyRun).has_value()) << "a run without phases, which tick never sees";
  }
  testing::raw_sql(registry_path(), "DROP TRIGGER no_phases;");
  const auto tick = grove({"tick", "--registry", registry_path().string()});
  EXPECT_EQ(tick.exit_code, 0) << tick.err;
  const auto run = grove(base_run_args(experiment));
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST_F(RunSetup, AMissingOrCorruptTokenizerModelIsNamedOnResumeAndByTheListWithTheCommandThatRestoresIt) {
  const auto experiment = write_experiment();
  ASSERT_EQ(grove(base_run_args(experiment)).exit_code, 0);
  const auto model = tokenizer_model();
  const std::string bytes = testing::read_file(model);
  const std::vector<std::string> list = {"tokenizer", "list", "--registry", registry_path().string()};
  EXPECT_EQ(grove(list).exit_code, 0);

  std::string restore;  // the command the refusal gives, between backquotes
  for (const std::string damage : {"missing", "corrupt"}) {
    if (damage == "missing") std::filesystem::remove(model);
    if (damage == "corrupt") testing::write_file(model, bytes.substr(0, bytes.size() / 2));
    const auto resumed = grove(base_run_args(experiment));
    EXPECT_EQ(resumed.exit_code, 2) << damage << ": " << resumed.err;
    EXPECT_NE(resumed.err.find(model.string()), std::string::npos) << damage << ": " << resumed.err;
    EXPECT_NE(resumed.err.find("is " + damage), std::string::npos) << damage << ": " << resumed.err;
    const auto listed = grove(list);
    EXPECT_EQ(listed.exit_code, 1) << damage;
    EXPECT_NE(listed.out.find(damage), std::string::npos) << damage << ": " << listed.out;
    EXPECT_NE(listed.err.find(model.string()), std::string::npos) << damage << ": " << listed.err;
    const size_t start = resumed.err.find("`grove tokenizer train ");
    ASSERT_NE(start, std::string::npos) << resumed.err;
    restore = resumed.err.substr(start + 7, resumed.err.find('`', start + 1) - start - 7);
  }

  // The command it gives writes the same file again; the run then resumes (it has nothing left to do).
  std::vector<std::string> args;
  for (size_t at = 0; at < restore.size();) {
    const size_t end = std::min(restore.find(' ', at), restore.size());
    args.push_back(restore.substr(at, end - at));
    at = end + 1;
  }
  const auto retrained = grove(args);
  EXPECT_EQ(retrained.exit_code, 0) << restore << ": " << retrained.err;
  EXPECT_EQ(testing::read_file(model), bytes) << restore;
  EXPECT_EQ(grove(list).exit_code, 0);
  const auto resumed = grove(base_run_args(experiment));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
}

}  // namespace
}  // namespace grove
