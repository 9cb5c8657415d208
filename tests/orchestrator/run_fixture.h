// Shared set-up for the orchestrator's integration tests: a temporary folder holding a copy of the tiny
// three-distribution experiment, helpers to run `grove` on it and to read its registry and checkpoints.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "registry/registry.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove::testing {

// The run tiny_experiment.yaml makes: "<name>-<strategy>".
inline const std::string kTinyRun = "tiny-grove";

class RunFixture : public ::testing::Test {
 protected:
  // Copies tests/orchestrator/data/tiny_experiment.yaml into the temp folder (with `extra` lines appended).
  std::filesystem::path write_experiment(const std::string& file_name = "tiny.yaml", const std::string& extra = "");
  ProcessResult grove(const std::vector<std::string>& args) { return run_grove(args); }
  std::filesystem::path registry_path() const { return dir_ / "grove.db"; }
  registry::Database open_registry() const {
    return registry::Database::open(registry_path(), registry::OpenMode::kReadOnly);
  }
  // The phase-end checkpoint folder of `phase_idx` of run `run`.
  std::filesystem::path final_checkpoint(registry::Database& db, const std::string& run, int64_t phase_idx) const;

  TempDir dir_{"grove-orch"};
};

// Raw bytes of one tensor of a checkpoint's model.safetensors.
std::string tensor_bytes(const std::filesystem::path& checkpoint_dir, const std::string& name);
// Names of every tensor in a checkpoint's model.safetensors.
std::vector<std::string> tensor_names(const std::filesystem::path& checkpoint_dir);

}  // namespace grove::testing
