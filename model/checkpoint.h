// Saving and loading Grove checkpoints (layout in checkpoint_metadata.h). Saving writes every file into a
// temporary sibling folder, fsyncs, and renames it over the target (common/atomic_file.h): a reader sees the old
// checkpoint or the new one, never a mix. Loading verifies checksums, builds the model from the stored config and
// group layout, and checks every tensor against it, naming the first tensor that is missing, unexpected or of the
// wrong shape.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "model/checkpoint_metadata.h"
#include "model/moe_transformer.h"

namespace grove::model {

struct CheckpointSummary {
  std::map<std::string, std::string> file_xxh3;  // per file in the folder, 16 hex digits
  std::string xxh3;                              // of checksums.json: one value covering every file
  uint64_t bytes = 0;                            // total size of the folder's files
};

// `extra_tensors`: caller state such as optimizer moments (any names, any dtypes). `extra_metadata`: caller JSON
// stored under metadata.json "extra". Replaces `dir` if it exists.
CheckpointSummary save_checkpoint(const std::filesystem::path& dir, const MoeTransformer& model,
                                  const std::map<std::string, torch::Tensor>& extra_tensors, int64_t step,
                                  const nlohmann::json& extra_metadata = nlohmann::json::object());

struct LoadOptions {
  torch::Device device = torch::kCPU;
  bool verify_checksums = true;
};

struct LoadedCheckpoint {
  std::shared_ptr<MoeTransformer> model;
  std::map<std::string, torch::Tensor> extra_tensors;  // on options.device
  CheckpointMetadata metadata;
};

// A new model built from the checkpoint (all parameters requires_grad; apply a TrainablePolicy before training).
LoadedCheckpoint load_checkpoint(const std::filesystem::path& dir, const LoadOptions& options = {});

// Loads into an existing model (resume): the checkpoint's config and group layout must equal the model's
// (CheckpointError naming the first differing key otherwise). Values are copied in place, keeping the model's
// device, dtype and requires_grad flags. Returns the extra tensors (on the model's device) and the metadata.
LoadedCheckpoint load_checkpoint_into(const std::filesystem::path& dir, MoeTransformer& model,
                                      const LoadOptions& options = {});

}  // namespace grove::model
