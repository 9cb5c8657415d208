// The command line as a user meets it: help, version, bad subcommands and flags, exit codes.
#include <gtest/gtest.h>

#include "common/version.h"
#include "model/runtime_info.h"
#include "orchestrator/cli/command.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {

using testing::run_grove;

TEST(CliFront, HelpListsEveryLandedSubcommandWithItsSummary) {
  const auto result = run_grove({"--help"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("--version"), std::string::npos);
  EXPECT_NE(result.out.find("--log-format"), std::string::npos);
  for (const auto& command : cli::command_table()) {
    EXPECT_NE(result.out.find(command.name), std::string::npos) << command.name;
    EXPECT_NE(result.out.find(command.summary), std::string::npos) << command.summary;
  }
}

TEST(CliFront, EverySubcommandHasItsOwnHelp) {
  for (const auto& command : cli::command_table()) {
    const auto result = run_grove({command.name, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command.name << ": " << result.err;
    EXPECT_NE(result.out.find(command.name), std::string::npos);
  }
}

TEST(CliFront, VersionNamesGroveLibTorchAndCuda) {
  const auto result = run_grove({"--version"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(std::string("grove ") + kVersion), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("LibTorch " + model::torch_version()), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("CUDA "), std::string::npos) << result.out;
}

TEST(CliFront, UnknownSubcommandExitsTwoNamingIt) {
  const auto result = run_grove({"frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("frobnicate"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("grove --help"), std::string::npos) << result.err;
}

TEST(CliFront, UnknownFlagExitsTwoNamingIt) {
  const auto result = run_grove({"--frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--frobnicate"), std::string::npos) << result.err;
}

TEST(CliFront, BadLogFormatValueExitsTwoNamingTheOption) {
  const auto result = run_grove({"--log-format", "xml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("xml"), std::string::npos) << result.err;
}

TEST(CliFront, NoSubcommandExitsTwoWithHelp) {
  const auto result = run_grove({});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("Usage"), std::string::npos) << result.err;
}

TEST(CliFront, EvalRefusesATokenBudgetThatIsNotPositive) {
  // Zero or a negative --max-tokens once evaluated the whole holdout without a word (and --record stored it).
  for (const char* value : {"0", "-5"}) {
    const auto result = run_grove({"eval", "--run", "r", "--max-tokens", value});
    EXPECT_EQ(result.exit_code, 2) << value << ": " << result.err;
    EXPECT_NE(result.err.find("--max-tokens"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(std::string("expected a whole number of tokens above 0, got '") + value + "'"),
              std::string::npos)
        << result.err;
  }
}

TEST(CliFront, DemoRefusesAnOutThatIsAFile) {
  // It printed std::filesystem's "cannot create directories" with exit 1.
  testing::TempDir dir;
  const auto file = testing::write_file(dir / "grove-demo", "a file\n");
  const auto result = run_grove({"demo", "--out", file.string()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("--out " + file.string() + " exists and is not a folder"), std::string::npos)
      << result.err;
  EXPECT_EQ(testing::read_file(file), "a file\n");
}

}  // namespace
}  // namespace grove
