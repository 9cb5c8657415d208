#include "common/errors.h"

#include <gtest/gtest.h>

namespace grove {
namespace {

TEST(Errors, EachBoundaryMapsToItsExitCode) {
  EXPECT_EQ(exit_code_for(ConfigError("experiment.yaml:3: unknown key 'stpes'")), 2);
  EXPECT_EQ(exit_code_for(DataError("corpus.txt: empty corpus")), 2);
  EXPECT_EQ(exit_code_for(DataError("disk full", ExitCode::kRuntime)), 1);
  EXPECT_EQ(exit_code_for(RegistryError("database is locked")), 1);
  EXPECT_EQ(exit_code_for(RegistryError("notes.txt: not a SQLite database", ExitCode::kBadInput)), 2);
  EXPECT_EQ(exit_code_for(CheckpointError("model.safetensors: truncated")), 2);
  EXPECT_EQ(exit_code_for(InterruptedError("SIGTERM", ExitCode::kTerminated)), 143);
  EXPECT_EQ(exit_code_for(std::runtime_error("anything else")), 1);
}

TEST(Errors, MessageIsKeptVerbatim) {
  const ConfigError error("run.yaml:12: key 'lr' expected a number, got 'fast'");
  EXPECT_STREQ(error.what(), "run.yaml:12: key 'lr' expected a number, got 'fast'");
}

}  // namespace
}  // namespace grove
