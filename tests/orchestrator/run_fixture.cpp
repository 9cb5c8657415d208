#include "tests/orchestrator/run_fixture.h"

#include "model/safetensors.h"

namespace grove::testing {
namespace fs = std::filesystem;

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

std::string tensor_bytes(const fs::path& checkpoint_dir, const std::string& name) {
  const model::SafetensorsReader reader(checkpoint_dir / "model.safetensors");
  std::string bytes(reader.info(name).byte_size(), '\0');
  reader.read(name, bytes.data(), bytes.size());
  return bytes;
}

std::vector<std::string> tensor_names(const fs::path& checkpoint_dir) {
  const model::SafetensorsReader reader(checkpoint_dir / "model.safetensors");
  std::vector<std::string> names;
  for (const auto& info : reader.tensors()) names.push_back(info.name);
  return names;
}

}  // namespace grove::testing
