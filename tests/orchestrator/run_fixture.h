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
  // Runs `grove args` in the background (output under <temp>/interrupted) until phase `idx` of kTinyRun has trained
  // `steps` steps, sends it SIGTERM and returns how it ended; a gtest failure when it ended before getting there.
  ProcessResult run_until_sigterm(const std::vector<std::string>& args, int64_t idx, int64_t steps);
  registry::Database open_registry() const {
    return registry::Database::open(registry_path(), registry::OpenMode::kReadOnly);
  }
  // The phase-end checkpoint folder of `phase_idx` of run `run`.
  std::filesystem::path final_checkpoint(registry::Database& db, const std::string& run, int64_t phase_idx) const;
  // gtest expectations: run kTinyRun's phase-end checkpoints (every tensor) and evaluation matrix in `ours` equal
  // those in `theirs` bit for bit, as a resumed run's equal an uninterrupted one's.
  void expect_same_results(registry::Database& ours, registry::Database& theirs) const;

  TempDir dir_{"grove-orch"};
};

// Waits (polling the registry read-only, five minutes at most) until phase `idx` of run `run` is training and has
// trained at least `steps` steps; false when `process` ended first.
bool wait_for_progress(const std::filesystem::path& registry, const std::string& run, int64_t idx, int64_t steps,
                       BackgroundProcess& process);

// Raw bytes of one model tensor of a checkpoint (from its model.safetensors or its blob).
std::string tensor_bytes(const std::filesystem::path& checkpoint_dir, const std::string& name);
// Names of every model tensor of a checkpoint.
std::vector<std::string> tensor_names(const std::filesystem::path& checkpoint_dir);

}  // namespace grove::testing
