#include "model/checkpoint_metadata.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "common/errors.h"
#include "common/hashing.h"
#include "model/tensor_manifest.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("{}: missing or unreadable", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
}

const nlohmann::json& member(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end()) throw CheckpointError(fmt::format("{}: key '{}' is missing", source, key));
  return *it;
}

}  // namespace

nlohmann::json checkpoint_metadata_to_json(const CheckpointMetadata& metadata) {
  return nlohmann::json{{"format", "grove-checkpoint"},
                        {"format_version", metadata.format_version},
                        {"config", model_config_to_json(metadata.config)},
                        {"group_sizes", metadata.group_sizes},
                        {"step", metadata.step},
                        {"extra", metadata.extra}};
}

CheckpointMetadata checkpoint_metadata_from_json(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object() || json.value("format", "") != "grove-checkpoint") {
    throw CheckpointError(fmt::format("{}: not a Grove checkpoint metadata file (expected \"format\": "
                                      "\"grove-checkpoint\")", source));
  }
  CheckpointMetadata metadata;
  const auto& version = member(json, "format_version", source);
  if (!version.is_number_integer()) throw CheckpointError(fmt::format("{}: format_version must be an integer", source));
  metadata.format_version = version.get<int>();
  if (metadata.format_version < 1 || metadata.format_version > kCheckpointFormatVersion) {
    throw CheckpointError(fmt::format("{}: format_version {} is not supported by this Grove (it reads 1..{})", source,
                                      metadata.format_version, kCheckpointFormatVersion));
  }
  try {
    metadata.config = model_config_from_json(member(json, "config", source), source);
    metadata.config.validate();
  } catch (const ConfigError& e) {
    throw CheckpointError(e.what());
  }
  const auto& groups = member(json, "group_sizes", source);
  if (!groups.is_array() || groups.empty()) {
    throw CheckpointError(fmt::format("{}: group_sizes must be a non-empty list of positive integers", source));
  }
  for (const auto& size : groups) {
    if (!size.is_number_unsigned() || size.get<int64_t>() < 1) {
      throw CheckpointError(fmt::format("{}: group_sizes must be a non-empty list of positive integers, got {}",
                                        source, groups.dump()));
    }
    metadata.group_sizes.push_back(size.get<int64_t>());
  }
  const auto& step = member(json, "step", source);
  if (!step.is_number_integer() || step.get<int64_t>() < 0) {
    throw CheckpointError(fmt::format("{}: step must be a non-negative integer", source));
  }
  metadata.step = step.get<int64_t>();
  metadata.extra = member(json, "extra", source);
  return metadata;
}

CheckpointMetadata read_checkpoint_metadata(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw CheckpointError(fmt::format("{}: checkpoint folder not found", dir.string()));
  const fs::path path = dir / kMetadataFile;
  return checkpoint_metadata_from_json(read_json_file(path), path.string());
}

std::map<std::string, std::string> read_checkpoint_checksums(const fs::path& dir) {
  const fs::path path = dir / kChecksumsFile;
  const nlohmann::json json = read_json_file(path);
  if (!json.is_object()) throw CheckpointError(fmt::format("{}: expected an object of file name -> xxh3", path.string()));
  std::map<std::string, std::string> checksums;
  for (const auto& [name, value] : json.items()) {
    if (!value.is_string()) throw CheckpointError(fmt::format("{}: checksum of '{}' is not a string", path.string(), name));
    checksums[name] = value.get<std::string>();
  }
  // A folder with tensors.json keeps its tensors in blobs (version 2): the manifest must be covered, since it names
  // the blobs that are loaded.
  const bool blobs = checksums.contains(kTensorManifestFile) || fs::exists(dir / kTensorManifestFile);
  const std::vector<const char*> required = blobs ? std::vector<const char*>{kTensorManifestFile, kMetadataFile}
                                                  : std::vector<const char*>{kModelTensorsFile, kExtraTensorsFile,
                                                                             kMetadataFile};
  for (const char* name : required) {
    if (!checksums.contains(name)) throw CheckpointError(fmt::format("{}: no checksum for '{}'", path.string(), name));
  }
  return checksums;
}

void verify_checkpoint_checksums(const fs::path& dir) {
  for (const auto& [name, expected] : read_checkpoint_checksums(dir)) {
    const fs::path path = dir / name;
    if (name.find('/') != std::string::npos || !fs::is_regular_file(path)) {
      throw CheckpointError(fmt::format("{}: listed in {} but missing", path.string(), kChecksumsFile));
    }
    const std::string actual = hash_hex(xxh3_file(path));
    if (actual != expected) {
      throw CheckpointError(fmt::format("{}: xxh3 {} does not match the recorded {}: the file was altered or "
                                        "truncated after the checkpoint was written",
                                        path.string(), actual, expected));
    }
  }
}

}  // namespace grove::model
