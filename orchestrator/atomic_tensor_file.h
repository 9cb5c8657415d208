// A small tensor file a run keeps beside its checkpoints (a distribution sketch, a rehearsal pool), written so that
// a crash leaves either the old file or the new one: the tensors go to "<path>.tmp", which is renamed over `path`,
// and the folder is fsynced. The folder is created when missing.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace grove::orch {

// Throws CheckpointError naming `what` and the path (the temporary is removed).
void write_tensor_file_atomically(const std::filesystem::path& path,
                                  const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata, const std::string& what);

}  // namespace grove::orch
