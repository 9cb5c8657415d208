#include "model/tensor_manifest.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "common/errors.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

nlohmann::json entries_to_json(const std::vector<BlobTensor>& tensors) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& tensor : tensors) {
    list.push_back({{"name", tensor.name},
                    {"dtype", std::string(dtype_name(tensor.dtype))},
                    {"shape", tensor.shape},
                    {"blob", tensor.blob}});
  }
  return list;
}

const nlohmann::json& member(const nlohmann::json& json, const char* key, const std::string& where) {
  const auto it = json.find(key);
  if (it == json.end()) throw CheckpointError(fmt::format("{}: key '{}' is missing", where, key));
  return *it;
}

std::string string_member(const nlohmann::json& json, const char* key, const std::string& where) {
  const auto& value = member(json, key, where);
  if (!value.is_string()) throw CheckpointError(fmt::format("{}: '{}' must be a string", where, key));
  return value.get<std::string>();
}

std::vector<BlobTensor> entries_from_json(const nlohmann::json& json, const char* key, const std::string& source,
                                          std::set<std::string>& names) {
  const auto& list = member(json, key, source);
  if (!list.is_array()) throw CheckpointError(fmt::format("{}: '{}' must be a list of tensors", source, key));
  std::vector<BlobTensor> tensors;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("{}: {}[{}]", source, key, i);
    const auto& item = list[i];
    if (!item.is_object()) throw CheckpointError(fmt::format("{}: expected an object", where));
    BlobTensor tensor;
    tensor.name = string_member(item, "name", where);
    tensor.dtype = parse_dtype(string_member(item, "dtype", where), where);
    const auto& shape = member(item, "shape", where);
    if (!shape.is_array()) throw CheckpointError(fmt::format("{}: 'shape' must be a list of sizes", where));
    for (const auto& size : shape) {
      if (!size.is_number_unsigned() || size.get<uint64_t>() > uint64_t{1} << 62) {
        throw CheckpointError(
            fmt::format("{}: 'shape' must be a list of non-negative integers, got {}", where, shape.dump()));
      }
      tensor.shape.push_back(size.get<int64_t>());
    }
    tensor.blob = string_member(item, "blob", where);
    if (!is_blob_name(tensor.blob)) {
      throw CheckpointError(fmt::format("{}: blob '{}' is not 16 lowercase hex digits", where, tensor.blob));
    }
    if (!names.insert(std::string(key) + "/" + tensor.name).second) {
      throw CheckpointError(fmt::format("{}: tensor '{}' is listed twice", where, tensor.name));
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

}  // namespace

bool is_blob_name(std::string_view text) {
  if (text.size() != 16) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string blob_file_name(std::string_view blob) {
  return std::string(blob) + ".safetensors";
}

std::set<std::string> TensorManifest::blobs() const {
  std::set<std::string> names;
  for (const auto& tensor : model) names.insert(tensor.blob);
  for (const auto& tensor : extra) names.insert(tensor.blob);
  return names;
}

nlohmann::json tensor_manifest_to_json(const TensorManifest& manifest) {
  return nlohmann::json{{"format", "grove-tensors"},
                        {"blob_dir", manifest.blob_dir.generic_string()},
                        {"model", entries_to_json(manifest.model)},
                        {"extra", entries_to_json(manifest.extra)}};
}

TensorManifest tensor_manifest_from_json(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object() || json.value("format", "") != "grove-tensors") {
    throw CheckpointError(
        fmt::format("{}: not a Grove tensor manifest (expected \"format\": \"grove-tensors\")", source));
  }
  TensorManifest manifest;
  manifest.blob_dir = string_member(json, "blob_dir", source);
  if (manifest.blob_dir.empty()) throw CheckpointError(fmt::format("{}: 'blob_dir' is empty", source));
  std::set<std::string> names;
  manifest.model = entries_from_json(json, "model", source, names);
  manifest.extra = entries_from_json(json, "extra", source, names);
  return manifest;
}

TensorManifest read_tensor_manifest(const fs::path& dir) {
  const fs::path path = dir / kTensorManifestFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("{}: missing or unreadable", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
  return tensor_manifest_from_json(json, path.string());
}

}  // namespace grove::model
