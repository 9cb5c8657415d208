// What a Grove checkpoint folder holds besides tensors, readable without LibTorch. Format version 1 (self-contained):
//   model.safetensors  the model's parameters under their names (MoeTransformer's naming)
//   extra.safetensors  caller tensors (optimizer state), possibly none
//   metadata.json      format version, model config, expert-group layout, step, caller metadata (TrainingState...)
//   checksums.json     xxh3 of the three files above; its own xxh3 is the checkpoint's one checksum
// Format version 2 keeps the tensors in a blob store shared by the run's checkpoints (model/blob_store.h): instead of
// the two safetensors files, tensors.json lists them (model/tensor_manifest.h), and checksums.json covers it and
// metadata.json; each blob's name is its checksum.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace grove::model {

inline constexpr int kCheckpointFormatVersion = 2;      // the newest this Grove reads
inline constexpr int kBlobCheckpointFormatVersion = 2;  // tensors in a blob store
inline constexpr const char* kModelTensorsFile = "model.safetensors";
inline constexpr const char* kExtraTensorsFile = "extra.safetensors";
inline constexpr const char* kMetadataFile = "metadata.json";
inline constexpr const char* kChecksumsFile = "checksums.json";

struct CheckpointMetadata {
  int format_version = kCheckpointFormatVersion;
  ModelConfig config;
  std::vector<int64_t> group_sizes;  // experts per group, the same in every layer
  int64_t step = 0;
  nlohmann::json extra = nlohmann::json::object();  // whatever the caller stored
};

nlohmann::json checkpoint_metadata_to_json(const CheckpointMetadata& metadata);
// Strict: a missing key, a wrong type or a newer format version throws CheckpointError naming `source` and the key.
CheckpointMetadata checkpoint_metadata_from_json(const nlohmann::json& json, const std::string& source);

// Reads <dir>/metadata.json. CheckpointError naming the file when it is missing, not JSON or not valid.
CheckpointMetadata read_checkpoint_metadata(const std::filesystem::path& dir);

// Reads <dir>/checksums.json (file name -> 16 hex digits): it must list metadata.json and either both safetensors
// files (version 1) or tensors.json (version 2).
std::map<std::string, std::string> read_checkpoint_checksums(const std::filesystem::path& dir);

// Recomputes the xxh3 of every file checksums.json lists and throws CheckpointError naming the first file that is
// missing or whose content changed. A version-2 checkpoint's blobs are checked as they are read (model/blob_store.h).
void verify_checkpoint_checksums(const std::filesystem::path& dir);

}  // namespace grove::model
