// Checkpoints a resume can lose: a newest checkpoint truncated, altered or deleted is skipped (an event says which
// and why) and the run resumes from the newest intact one, ending bit-identical to an uninterrupted run; kill -9
// during checkpoint writes leaves temporaries that the next run removes; the run's blob store holds every blob its
// checkpoints reference and nothing else, and the phases' final checkpoints share their frozen experts' blobs (and
// export as before).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "model/checkpoint_metadata.h"
#include "model/tensor_manifest.h"
#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {
namespace fs = std::filesystem;

using testing::flip_byte;
using testing::kTinyRun;
using testing::RunFixture;

class CheckpointRecovery : public RunFixture {
 protected:
  // Phases long enough to be interrupted mid-way (checkpoints every 5 steps, the newest two kept).
  const std::vector<std::string> longer_{"--set=training.steps=30", "--set=training.base_steps=30"};

  std::vector<std::string> run_args(const fs::path& experiment) const {
    std::vector<std::string> args{"run", experiment.string()};
    args.insert(args.end(), longer_.begin(), longer_.end());
    return args;
  }
  fs::path run_dir() const { return dir_ / "work" / kTinyRun; }
};

// Every checkpoint folder of the run on disk, with the blobs it references.
std::map<fs::path, std::set<std::string>> blobs_by_checkpoint(const fs::path& run_dir) {
  std::map<fs::path, std::set<std::string>> blobs;
  for (const auto& phase : fs::directory_iterator(run_dir)) {
    if (!phase.is_directory() || !phase.path().filename().string().starts_with("phase-")) continue;
    for (const auto& checkpoint : fs::directory_iterator(phase.path())) {
      if (fs::exists(checkpoint.path() / model::kTensorManifestFile)) {
        blobs[checkpoint.path()] = model::read_tensor_manifest(checkpoint.path()).blobs();
      }
    }
  }
  return blobs;
}

// Every path under `root` whose name marks an unfinished write (`.tmp-<pid>-<hex>`).
std::vector<fs::path> temporaries_under(const fs::path& root) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(entry.path());
  }
  return found;
}

TEST_F(CheckpointRecovery, ATruncatedAlteredOrDeletedNewestCheckpointIsSkippedAndTheRunEndsAsAnUninterruptedOne) {
  testing::TempDir reference_dir("grove-ref");
  const auto reference_yaml = testing::write_file(reference_dir / "tiny.yaml", testing::read_file(write_experiment()));
  ASSERT_EQ(grove(run_args(reference_yaml)).exit_code, 0);

  // Stopped (SIGTERM) once in each phase, then the newest checkpoint of that phase is damaged before the next run.
  const auto experiment = write_experiment();
  const std::vector<std::string> damages{"truncated", "altered", "deleted"};
  std::vector<std::string> damaged_paths;
  for (int64_t idx = 0; idx < 3; ++idx) {
    {
      testing::BackgroundProcess process(testing::grove_binary(), run_args(experiment),
                                         (dir_ / fmt::format("stopped-{}", idx)).string());
      ASSERT_TRUE(testing::wait_for_progress(registry_path(), kTinyRun, idx, 12, process)) << "phase " << idx;
      process.signal(SIGTERM);
      ASSERT_EQ(process.wait().exit_code, 143);
    }
    auto db = open_registry();
    const auto run = registry::require_run(db, kTinyRun);
    const auto phase = registry::find_phase(db, run.id, idx);
    auto rows = registry::list_checkpoints(db, run.id, phase->id);
    ASSERT_GE(rows.size(), 2u) << "phase " << idx << " has an older checkpoint to fall back to";
    const auto newest = *std::max_element(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.step != b.step ? a.step < b.step : a.id < b.id;
    });
    // A blob only the newest checkpoint references (its optimizer state and the tensors trained since).
    std::set<std::string> own = model::read_tensor_manifest(newest.path).blobs();
    for (const auto& [path, blobs] : blobs_by_checkpoint(run_dir())) {
      if (path != fs::path(newest.path)) {
        for (const auto& blob : blobs) own.erase(blob);
      }
    }
    ASSERT_FALSE(own.empty());
    const fs::path blob = run_dir() / "blobs" / model::blob_file_name(*own.begin());
    if (damages[idx] == "truncated") fs::resize_file(blob, fs::file_size(blob) / 2);
    if (damages[idx] == "altered") flip_byte(blob, fs::file_size(blob) - 3);
    if (damages[idx] == "deleted") fs::remove_all(newest.path);
    damaged_paths.push_back(newest.path);
  }
  const auto resumed = grove(run_args(experiment));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;

  auto db = open_registry();
  const auto run = registry::require_run(db, kTinyRun);
  EXPECT_EQ(run.status, registry::RunStatus::kDone);
  std::vector<std::string> skipped;
  for (const auto& event : registry::list_events(db, run.id)) {
    if (event.kind == "checkpoint_skipped") skipped.push_back(event.message);
  }
  ASSERT_EQ(skipped.size(), 3u);
  const std::vector<std::string> reasons{"truncated", "altered", "checkpoint folder not found"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NE(skipped[i].find(damaged_paths[i]), std::string::npos) << skipped[i];
    EXPECT_NE(skipped[i].find(reasons[i]), std::string::npos) << skipped[i];
    EXPECT_NE(skipped[i].find("resuming from"), std::string::npos) << skipped[i];
  }
  auto reference_db = registry::Database::open(reference_dir / "grove.db", registry::OpenMode::kReadOnly);
  expect_same_results(db, reference_db);
}

TEST_F(CheckpointRecovery, KillNineDuringCheckpointWritesLeavesNoTemporaryAfterTheNextRunAndTheSameResults) {
  testing::TempDir reference_dir("grove-ref");
  const auto reference_yaml = testing::write_file(reference_dir / "tiny.yaml", testing::read_file(write_experiment()));
  ASSERT_EQ(grove(run_args(reference_yaml)).exit_code, 0);

  const auto experiment = write_experiment();
  std::mt19937 random(20261207);
  int left_behind = 0;
  for (int cycle = 0; cycle < 6; ++cycle) {
    testing::BackgroundProcess process(testing::grove_binary(), run_args(experiment),
                                       (dir_ / fmt::format("killed-{}", cycle)).string());
    if (!testing::wait_for_progress(registry_path(), kTinyRun, cycle / 2, 1 + static_cast<int64_t>(random() % 20),
                                    process)) {
      break;  // the run went past that phase: later cycles are kill points in later phases
    }
    process.signal(SIGKILL);
    process.wait();
    if (fs::exists(run_dir())) left_behind += static_cast<int>(temporaries_under(run_dir()).size());
  }
  // Besides whatever those kills left, one checkpoint folder and one blob as a writer that died leaves them, and one
  // of a writer still alive (this test process), which must be kept.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const fs::path dead_folder = run_dir() / "phase-0" / fmt::format("step-0000025.tmp-{}-0a1b2c3d", child);
  const fs::path dead_blob = run_dir() / "blobs" / fmt::format("0123456789abcdef.safetensors.tmp-{}-0a1b2c3d", child);
  const fs::path living = run_dir() / "phase-0" / fmt::format("final.tmp-{}-0a1b2c3d", ::getpid());
  testing::write_file(dead_folder / "metadata.json", "{");
  testing::write_file(dead_blob, "half a blob");
  testing::write_file(living / "metadata.json", "{");

  const auto finished = grove(run_args(experiment));
  ASSERT_EQ(finished.exit_code, 0) << finished.err;
  EXPECT_FALSE(fs::exists(dead_folder));
  EXPECT_FALSE(fs::exists(dead_blob));
  EXPECT_TRUE(fs::exists(living)) << "a living writer's folder is never removed";
  fs::remove_all(living);
  EXPECT_EQ(temporaries_under(run_dir()), std::vector<fs::path>{})
      << left_behind << " temporaries were seen after the kills";
  for (int idx = 0; idx < 3; ++idx) {
    for (const auto& entry : fs::directory_iterator(run_dir() / fmt::format("phase-{}", idx))) {
      EXPECT_EQ(entry.path().filename(), "final") << "left behind: " << entry.path();
    }
  }

  auto db = open_registry();
  auto reference_db = registry::Database::open(reference_dir / "grove.db", registry::OpenMode::kReadOnly);
  expect_same_results(db, reference_db);
}

TEST_F(CheckpointRecovery, FinalCheckpointsShareTheFrozenExpertsBlobsAndTheStoreHoldsExactlyTheReferencedOnes) {
  const auto experiment = write_experiment();
  const auto result = grove({"run", experiment.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = open_registry();
  const fs::path p0 = final_checkpoint(db, kTinyRun, 0), p1 = final_checkpoint(db, kTinyRun, 1),
                 p2 = final_checkpoint(db, kTinyRun, 2);
  const auto blob_of = [](const fs::path& checkpoint, const std::string& name) {
    for (const auto& tensor : model::read_tensor_manifest(checkpoint).model) {
      if (tensor.name == name) return tensor.blob;
    }
    return std::string("(none)");
  };
  // The old experts freeze as the model grows: group 0 when phase 1 grew, group 1 when phase 2 did. Each is one blob
  // from then on, whatever the strategy does with the shared weights.
  int shared = 0;
  for (const auto& name : testing::tensor_names(p2)) {
    if (name.find(".moe.groups.0.w") != std::string::npos) {
      EXPECT_EQ(blob_of(p0, name), blob_of(p1, name)) << name;
      EXPECT_EQ(blob_of(p0, name), blob_of(p2, name)) << name;
      ++shared;
    }
    if (name.find(".moe.groups.1.w") != std::string::npos) {
      EXPECT_EQ(blob_of(p1, name), blob_of(p2, name)) << name;
      ++shared;
    }
  }
  EXPECT_EQ(shared, 2 * 2 * 3) << "two layers, two frozen groups, w1 w2 w3";
  // Pruning (keep_checkpoints 2, and every periodic checkpoint once its phase ended) kept every referenced blob and
  // removed the others.
  std::set<std::string> referenced;
  for (const auto& [path, blobs] : blobs_by_checkpoint(run_dir())) referenced.insert(blobs.begin(), blobs.end());
  std::set<std::string> stored;
  for (const auto& entry : fs::directory_iterator(run_dir() / "blobs")) {
    stored.insert(entry.path().stem().string());
  }
  EXPECT_EQ(stored, referenced);
  // `grove registry phases` reports each phase's disk: together every file the run's checkpoints hold, and for a
  // later phase less than its model's tensors (its frozen ones are an earlier phase's blobs).
  const auto phases =
      grove({"registry", "phases", "--run", kTinyRun, "--format", "json", "--registry", registry_path().string()});
  ASSERT_EQ(phases.exit_code, 0) << phases.err;
  const auto rows = nlohmann::json::parse(phases.out);
  ASSERT_EQ(rows.size(), 3u);
  uint64_t reported = 0, on_disk = 0;
  for (const auto& row : rows) reported += row.at("disk_bytes").get<uint64_t>();
  for (const auto& entry : fs::recursive_directory_iterator(run_dir())) {
    const std::string top = entry.path().lexically_relative(run_dir()).begin()->string();
    if (entry.is_regular_file() && (top == "blobs" || top.starts_with("phase-"))) on_disk += entry.file_size();
  }
  EXPECT_EQ(reported, on_disk);
  uint64_t p1_tensors = 0;
  for (const auto& tensor : model::read_tensor_manifest(p1).model) {
    uint64_t bytes = model::dtype_size(tensor.dtype);
    for (const int64_t extent : tensor.shape) bytes *= static_cast<uint64_t>(extent);
    p1_tensors += bytes;
  }
  EXPECT_LT(rows[1].at("disk_bytes").get<uint64_t>(), p1_tensors);

  // The Hugging Face export reads a checkpoint whose tensors are blobs as it reads any other.
  fs::path tokenizer;
  for (const auto& entry : fs::directory_iterator(dir_ / "grove-data" / "tokenizers")) {
    if (entry.path().extension() == ".model") tokenizer = entry.path();
  }
  const auto exported = grove({"export", "hf", "--checkpoint", p2.string(), "--tokenizer", tokenizer.string(), "--out",
                               (dir_ / "hf").string()});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_TRUE(fs::is_regular_file(dir_ / "hf" / "model.safetensors"));
  const auto run = registry::require_run(db, kTinyRun);
  for (const auto& row : registry::list_checkpoints(db, run.id)) {
    for (const auto& blob : model::read_tensor_manifest(row.path).blobs()) {
      EXPECT_TRUE(stored.contains(blob)) << row.path << " references " << blob;
    }
  }
}

}  // namespace
}  // namespace grove
