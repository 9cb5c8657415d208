#include "tests/orchestrator/run_fixture.h"

#include <chrono>
#include <csignal>
#include <thread>

#include "model/checkpoint_metadata.h"
#include "model/safetensors.h"
#include "model/tensor_manifest.h"

namespace grove::testing {
namespace fs = std::filesystem;

ProcessResult RunFixture::run_until_sigterm(const std::vector<std::string>& args, int64_t idx, int64_t steps) {
  BackgroundProcess process(grove_binary(), args, (dir_ / "interrupted").string());
  if (wait_for_progress(registry_path(), kTinyRun, idx, steps, process)) {
    process.signal(SIGTERM);
  } else {
    ADD_FAILURE() << "phase " << idx << " never reached step " << steps;
  }
  return process.wait();
}

fs::path RunFixture::write_experiment(const std::string& file_name, const std::string& extra) {
  const std::string text = read_file(fs::path(source_dir()) / "tests/orchestrator/data/tiny_experiment.yaml");
  return write_file(dir_ / file_name, text + extra);
}

fs::path RunFixture::final_checkpoint(registry::Database& db, const std::string& run, int64_t phase_idx) const {
  const auto run_row = registry::require_run(db, run);
  const auto phase = registry::find_phase(db, run_row.id, phase_idx);
  EXPECT_TRUE(phase.has_value()) << "phase " << phase_idx;
  for (const auto& row : registry::list_checkpoints(db, run_row.id, phase->id)) {
    if (row.kind == registry::CheckpointKind::kPhaseEnd) return row.path;
  }
  ADD_FAILURE() << "no phase-end checkpoint for phase " << phase_idx;
  return {};
}

void RunFixture::expect_same_results(registry::Database& ours_db, registry::Database& theirs_db) const {
  const auto ours_run = registry::require_run(ours_db, kTinyRun);
  for (const auto& phase : registry::list_phases(theirs_db, registry::require_run(theirs_db, kTinyRun).id)) {
    const auto ours = final_checkpoint(ours_db, kTinyRun, phase.idx);
    const auto theirs = final_checkpoint(theirs_db, kTinyRun, phase.idx);
    for (const auto& name : tensor_names(theirs)) {
      EXPECT_EQ(tensor_bytes(ours, name), tensor_bytes(theirs, name))
          << "phase " << phase.idx << " tensor " << name << " differs from the uninterrupted run";
    }
  }
  const auto ours = registry::eval_matrix(ours_db, ours_run.id);
  const auto theirs = registry::eval_matrix(theirs_db, registry::require_run(theirs_db, kTinyRun).id);
  ASSERT_EQ(ours.after.size(), theirs.after.size());
  for (size_t i = 0; i < ours.after.size(); ++i) {
    for (size_t j = 0; j < ours.after[i].size(); ++j) {
      ASSERT_TRUE(ours.after[i][j] && theirs.after[i][j]);
      EXPECT_EQ(*ours.after[i][j], *theirs.after[i][j]) << "R[" << i << "][" << j << "]";
    }
  }
}

bool wait_for_progress(const fs::path& registry, const std::string& run, int64_t idx, int64_t steps,
                       BackgroundProcess& process) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline && process.running()) {
    if (fs::exists(registry)) {
      try {
        auto db = registry::Database::open(registry, registry::OpenMode::kReadOnly);
        if (const auto row = registry::find_run(db, run)) {
          const auto phase = registry::find_phase(db, row->id, idx);
          if (phase && phase->status == registry::PhaseStatus::kTraining && phase->steps_done >= steps) return true;
        }
      } catch (const std::exception&) {
        // the writer may be creating the schema right now
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

namespace {

// Where a model tensor's bytes are: the checkpoint's model.safetensors (format 1) or the blob tensors.json names
// (format 2), with the tensor's name in that file.
std::pair<fs::path, std::string> tensor_location(const fs::path& checkpoint_dir, const std::string& name) {
  if (model::read_checkpoint_metadata(checkpoint_dir).format_version < model::kBlobCheckpointFormatVersion) {
    return {checkpoint_dir / model::kModelTensorsFile, name};
  }
  const auto manifest = model::read_tensor_manifest(checkpoint_dir);
  for (const auto& tensor : manifest.model) {
    if (tensor.name == name) {
      return {checkpoint_dir / manifest.blob_dir / model::blob_file_name(tensor.blob), "tensor"};
    }
  }
  ADD_FAILURE() << checkpoint_dir << " has no tensor " << name;
  return {};
}

}  // namespace

std::string tensor_bytes(const fs::path& checkpoint_dir, const std::string& name) {
  const auto [file, stored_name] = tensor_location(checkpoint_dir, name);
  const model::SafetensorsReader reader(file);
  std::string bytes(reader.info(stored_name).byte_size(), '\0');
  reader.read(stored_name, bytes.data(), bytes.size());
  return bytes;
}

std::vector<std::string> tensor_names(const fs::path& checkpoint_dir) {
  std::vector<std::string> names;
  if (model::read_checkpoint_metadata(checkpoint_dir).format_version < model::kBlobCheckpointFormatVersion) {
    const model::SafetensorsReader reader(checkpoint_dir / model::kModelTensorsFile);
    for (const auto& info : reader.tensors()) names.push_back(info.name);
  } else {
    for (const auto& tensor : model::read_tensor_manifest(checkpoint_dir).model) names.push_back(tensor.name);
  }
  return names;
}

}  // namespace grove::testing
