// Saving and loading Grove checkpoints (layout in checkpoint_metadata.h). Saving writes every file into a
// temporary sibling folder, fsyncs, and renames it over the target (common/atomic_file.h): a reader sees the old
// checkpoint or the new one, never a mix. With a blob store (model/blob_store.h) the tensors go to the store, each
// written only when no checkpoint stored the same bytes before, and the folder lists them (model/tensor_manifest.h).
// Loading verifies checksums (and every blob it reads), builds the model from the stored config and group layout,
// and checks every tensor against it, naming the first tensor that is missing, unexpected or of the wrong shape.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "model/blob_store.h"
#include "model/checkpoint_metadata.h"
#include "model/moe_transformer.h"

namespace grove::model {

struct CheckpointSummary {
  std::map<std::string, std::string> file_xxh3;  // per file in the folder, 16 hex digits
  std::string xxh3;                              // of checksums.json: one value covering every file
  uint64_t bytes = 0;            // what the checkpoint added to the disk: its folder's files and the blobs it wrote
  uint64_t tensor_bytes = 0;     // of every tensor it holds, written now or shared with earlier checkpoints
  std::set<std::string> blobs;   // the blobs it references (none without a blob store)
};

// `extra_tensors`: caller state such as optimizer moments (any names, any dtypes). `extra_metadata`: caller JSON
// stored under metadata.json "extra". Replaces `dir` if it exists. With `blobs`, the tensors are stored there
// (format version 2); without, in the folder (version 1, self-contained).
CheckpointSummary save_checkpoint(const std::filesystem::path& dir, const MoeTransformer& model,
                                  const std::map<std::string, torch::Tensor>& extra_tensors, int64_t step,
                                  const nlohmann::json& extra_metadata = nlohmann::json::object(),
                                  BlobStore* blobs = nullptr);

// Everything a checkpoint stores, apart from the model object: what a background writer serialises while training
// goes on.
struct CheckpointContent {
  ModelConfig config;
  std::vector<int64_t> group_sizes;
  std::vector<std::pair<std::string, torch::Tensor>> parameters;  // the model's, in its order
  std::vector<std::pair<std::string, torch::Tensor>> extra;
  int64_t step = 0;
  nlohmann::json extra_metadata = nlohmann::json::object();
};

// The content of a checkpoint of `model` with CPU copies of every tensor (pinned when they come from a device, all
// copied before it returns), so that the caller may change the model and `extra_tensors` right after. Host memory: one
// copy of the parameters and of the extra tensors.
CheckpointContent snapshot_checkpoint(const MoeTransformer& model,
                                      const std::map<std::string, torch::Tensor>& extra_tensors, int64_t step,
                                      const nlohmann::json& extra_metadata);

// As above, from a content (a snapshot, possibly on another thread than the one that trains).
CheckpointSummary save_checkpoint(const std::filesystem::path& dir, const CheckpointContent& content,
                                  BlobStore* blobs = nullptr);

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

// The model tensors a checkpoint holds, in stored order, and one of them as a CPU tensor (checked as a load checks
// it), for tools and tests that compare checkpoints tensor by tensor in either format.
std::vector<std::string> checkpoint_tensor_names(const std::filesystem::path& dir);
torch::Tensor read_checkpoint_tensor(const std::filesystem::path& dir, const std::string& name);

// The blob store a version-2 checkpoint's tensors live in and the blobs it references; nullopt for a self-contained
// checkpoint. CheckpointError when its tensors.json is unreadable.
struct CheckpointBlobs {
  std::filesystem::path store;
  std::set<std::string> blobs;
};
std::optional<CheckpointBlobs> checkpoint_blobs(const std::filesystem::path& dir);

}  // namespace grove::model
