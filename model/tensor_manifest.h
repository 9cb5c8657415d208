// tensors.json of a checkpoint whose tensors live in a blob store (model/blob_store.h): for the model's and the
// caller's tensors, in order, each name with its dtype, shape and blob, and where the store is relative to the
// checkpoint folder. Readable without LibTorch; parsed strictly, since it decides which files a load opens.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/safetensors.h"

namespace grove::model {

inline constexpr const char* kTensorManifestFile = "tensors.json";

struct BlobTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string blob;  // 16 lowercase hex digits: the blob's name in the store
};

struct TensorManifest {
  std::filesystem::path blob_dir;  // as stored: relative to the checkpoint folder, normally "../../blobs"
  std::vector<BlobTensor> model;   // the model's parameters (MoeTransformer's naming)
  std::vector<BlobTensor> extra;   // caller tensors (optimizer state), possibly none

  // Every blob either list names.
  std::set<std::string> blobs() const;
};

nlohmann::json tensor_manifest_to_json(const TensorManifest& manifest);
// Strict: CheckpointError naming `source` and the key for a missing key, a wrong type, an unknown dtype, a negative
// dimension, a duplicate name or a blob name that is not 16 lowercase hex digits.
TensorManifest tensor_manifest_from_json(const nlohmann::json& json, const std::string& source);

// Reads <dir>/tensors.json (CheckpointError naming the file when it is missing or invalid).
TensorManifest read_tensor_manifest(const std::filesystem::path& dir);

// Whether `text` can name a blob (16 lowercase hex digits).
bool is_blob_name(std::string_view text);
// The file that holds blob `blob` in its store: "<blob>.safetensors".
std::string blob_file_name(std::string_view blob);

}  // namespace grove::model
