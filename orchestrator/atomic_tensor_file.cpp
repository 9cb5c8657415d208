#include "orchestrator/atomic_tensor_file.h"

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "model/tensor_io.h"

namespace grove::orch {

void write_tensor_file_atomically(const std::filesystem::path& path,
                                  const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata, const std::string& what) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    throw CheckpointError(fmt::format("{}: cannot create {}: {}", what, path.parent_path().string(), error.message()));
  }
  const std::filesystem::path temp = path.string() + ".tmp";
  try {
    model::write_tensors(temp, tensors, metadata);
    std::filesystem::rename(temp, path);
    fsync_path(path.parent_path());
  } catch (const std::exception& failure) {
    std::filesystem::remove(temp, error);
    throw CheckpointError(fmt::format("{}: cannot write {}: {}", what, path.string(), failure.what()));
  }
}

}  // namespace grove::orch
