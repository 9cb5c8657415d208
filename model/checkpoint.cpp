#include "model/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/hashing.h"
#include "common/log.h"
#include "model/temp_folder.h"
#include "model/tensor_io.h"
#include "model/tensor_manifest.h"
#include "model/torch_compat.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// One tensor of a checkpoint: its name and shape, and how to read it (checked) as a new CPU tensor.
struct StoredTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::function<torch::Tensor()> read;
};

// The model's or the caller's tensors of a checkpoint, from its safetensors file (format version 1) or from the
// blobs its tensors.json lists (version 2). `source` is what messages name.
struct StoredTensors {
  std::string source;
  std::vector<StoredTensor> tensors;
};

StoredTensors tensors_in_file(const fs::path& file) {
  auto reader = std::make_shared<SafetensorsReader>(file);
  StoredTensors stored{file.string(), {}};
  for (const TensorInfo& info : reader->tensors()) {
    stored.tensors.push_back(
        {info.name, info.shape, [reader, name = info.name] { return read_tensor(*reader, name); }});
  }
  return stored;
}

StoredTensors tensors_in_blobs(const fs::path& dir, const TensorManifest& manifest, bool model_tensors) {
  auto store = std::make_shared<const BlobStore>((dir / manifest.blob_dir).lexically_normal());
  StoredTensors stored{fmt::format("{} ({})", (dir / kTensorManifestFile).string(), model_tensors ? "model" : "extra"),
                       {}};
  for (const BlobTensor& tensor : model_tensors ? manifest.model : manifest.extra) {
    stored.tensors.push_back({tensor.name, tensor.shape, [store, tensor] {
                                return store->read(tensor.blob, tensor.dtype, tensor.shape);
                              }});
  }
  return stored;
}

struct CheckpointTensors {
  StoredTensors model;
  StoredTensors extra;
};

CheckpointTensors open_tensors(const fs::path& dir, const CheckpointMetadata& metadata) {
  if (metadata.format_version >= kBlobCheckpointFormatVersion) {
    const TensorManifest manifest = read_tensor_manifest(dir);
    return {tensors_in_blobs(dir, manifest, true), tensors_in_blobs(dir, manifest, false)};
  }
  return {tensors_in_file(dir / kModelTensorsFile), tensors_in_file(dir / kExtraTensorsFile)};
}

// Copies every stored model tensor into the model's parameters, checking names and shapes first.
void fill_parameters(const StoredTensors& stored, MoeTransformer& model) {
  std::map<std::string, const StoredTensor*> by_name;
  for (const StoredTensor& tensor : stored.tensors) by_name[tensor.name] = &tensor;
  auto parameters = model.named_parameters();
  for (const auto& item : parameters) {
    const auto found = by_name.find(item.key());
    if (found == by_name.end()) {
      throw CheckpointError(fmt::format("{}: tensor '{}' is missing (the model has it, shape {})", stored.source,
                                        item.key(), shape_text(item.value().sizes())));
    }
    if (at::IntArrayRef(found->second->shape) != item.value().sizes()) {
      throw CheckpointError(fmt::format("{}: tensor '{}' has shape {}, the model expects {}", stored.source,
                                        item.key(), shape_text(found->second->shape),
                                        shape_text(item.value().sizes())));
    }
  }
  for (const StoredTensor& tensor : stored.tensors) {
    if (!parameters.contains(tensor.name)) {
      throw CheckpointError(fmt::format("{}: tensor '{}' is not a parameter of the model described by {}",
                                        stored.source, tensor.name, kMetadataFile));
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& item : parameters) item.value().copy_(by_name.at(item.key())->read());
}

std::map<std::string, torch::Tensor> read_extra(const StoredTensors& stored, const torch::Device& device) {
  std::map<std::string, torch::Tensor> extra;
  for (const StoredTensor& tensor : stored.tensors) extra[tensor.name] = tensor.read().to(device);
  return extra;
}

// Stores every tensor in `blobs` and lists it in `entries`; adds what it wrote and what it holds to `summary`.
void put_tensors(BlobStore& blobs, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                 std::vector<BlobTensor>& entries, CheckpointSummary& summary) {
  for (const auto& [name, tensor] : tensors) {
    const BlobStore::Stored stored = blobs.put(tensor);
    entries.push_back({name, stored.dtype, stored.shape, stored.blob});
    summary.blobs.insert(stored.blob);
    summary.bytes += stored.bytes_written;
    summary.tensor_bytes += static_cast<uint64_t>(tensor.numel()) * tensor.element_size();
  }
}

std::string first_config_difference(const ModelConfig& a, const ModelConfig& b) {
  const nlohmann::json ja = model_config_to_json(a);
  const nlohmann::json jb = model_config_to_json(b);
  for (const auto& [key, value] : ja.items()) {
    if (jb[key] != value) return fmt::format("model.{}: checkpoint {}, model {}", key, value.dump(), jb[key].dump());
  }
  return "";
}

CheckpointContent content_of(const MoeTransformer& model, const std::map<std::string, torch::Tensor>& extra_tensors,
                             int64_t step, const nlohmann::json& extra_metadata) {
  CheckpointContent content;
  content.config = model.config();
  content.group_sizes = model.group_sizes();
  for (const auto& item : model.named_parameters()) content.parameters.emplace_back(item.key(), item.value());
  content.extra.assign(extra_tensors.begin(), extra_tensors.end());
  content.step = step;
  content.extra_metadata = extra_metadata;
  return content;
}

// A CPU copy of `tensor`. From a device, into pinned memory without waiting: call compat::synchronize before use.
torch::Tensor host_copy(const torch::Tensor& tensor) {
  const torch::Tensor detached = tensor.detach();
  if (detached.device().is_cpu()) return detached.clone();
  torch::Tensor host = torch::empty(detached.sizes(), detached.options().device(torch::kCPU).pinned_memory(true));
  host.copy_(detached, /*non_blocking=*/true);
  return host;
}

}  // namespace

CheckpointSummary save_checkpoint(const fs::path& dir, const MoeTransformer& model,
                                  const std::map<std::string, torch::Tensor>& extra_tensors, int64_t step,
                                  const nlohmann::json& extra_metadata, BlobStore* blobs) {
  return save_checkpoint(dir, content_of(model, extra_tensors, step, extra_metadata), blobs);
}

CheckpointContent snapshot_checkpoint(const MoeTransformer& model,
                                      const std::map<std::string, torch::Tensor>& extra_tensors, int64_t step,
                                      const nlohmann::json& extra_metadata) {
  CheckpointContent content = content_of(model, extra_tensors, step, extra_metadata);
  torch::NoGradGuard no_grad;
  for (auto& item : content.parameters) item.second = host_copy(item.second);
  for (auto& item : content.extra) item.second = host_copy(item.second);
  compat::synchronize(model.device());  // the copies from the device have landed
  return content;
}

CheckpointSummary save_checkpoint(const fs::path& dir, const CheckpointContent& content, BlobStore* blobs) {
  TempFolder temp(dir);
  const auto& parameters = content.parameters;
  const auto& extra = content.extra;
  CheckpointSummary summary;
  std::vector<const char*> files;
  if (blobs) {
    TensorManifest manifest;
    manifest.blob_dir = fs::absolute(blobs->dir()).lexically_normal().lexically_relative(
        fs::absolute(dir).lexically_normal());
    put_tensors(*blobs, parameters, manifest.model, summary);
    put_tensors(*blobs, extra, manifest.extra, summary);
    blobs->sync();  // every blob durable before a checkpoint that names it can be
    atomic_write_file(temp.path() / kTensorManifestFile, tensor_manifest_to_json(manifest).dump(1) + "\n");
    files = {kTensorManifestFile, kMetadataFile};
  } else {
    write_tensors(temp.path() / kModelTensorsFile, parameters, {{"format", "grove"}});
    write_tensors(temp.path() / kExtraTensorsFile, extra);
    for (const auto* list : {&parameters, &extra}) {
      for (const auto& item : *list) summary.tensor_bytes += item.second.numel() * item.second.element_size();
    }
    files = {kModelTensorsFile, kExtraTensorsFile, kMetadataFile};
  }

  CheckpointMetadata metadata;
  metadata.format_version = blobs ? kBlobCheckpointFormatVersion : 1;
  metadata.config = content.config;
  metadata.group_sizes = content.group_sizes;
  metadata.step = content.step;
  metadata.extra = content.extra_metadata;
  atomic_write_file(temp.path() / kMetadataFile, checkpoint_metadata_to_json(metadata).dump(2) + "\n");

  nlohmann::json checksums = nlohmann::json::object();
  for (const char* name : files) {
    const fs::path path = temp.path() / name;
    summary.file_xxh3[name] = hash_hex(xxh3_file(path));
    summary.bytes += fs::file_size(path);
    checksums[name] = summary.file_xxh3[name];
  }
  const std::string checksum_text = checksums.dump(2) + "\n";
  atomic_write_file(temp.path() / kChecksumsFile, checksum_text);
  summary.xxh3 = hash_hex(xxh3_64(checksum_text));
  summary.file_xxh3[kChecksumsFile] = summary.xxh3;
  summary.bytes += checksum_text.size();

  publish_folder(temp.path(), dir);
  temp.release();
  log::debug("checkpoint {}: step {}, {} bytes written, xxh3 {}", dir.string(), content.step, summary.bytes,
             summary.xxh3);
  return summary;
}

LoadedCheckpoint load_checkpoint(const fs::path& dir, const LoadOptions& options) {
  LoadedCheckpoint loaded;
  loaded.metadata = read_checkpoint_metadata(dir);
  if (options.verify_checksums) verify_checkpoint_checksums(dir);
  loaded.model = std::make_shared<MoeTransformer>(loaded.metadata.config, loaded.metadata.group_sizes,
                                                  /*initialise=*/false);
  const CheckpointTensors tensors = open_tensors(dir, loaded.metadata);
  fill_parameters(tensors.model, *loaded.model);
  loaded.model->to(options.device);
  loaded.extra_tensors = read_extra(tensors.extra, options.device);
  return loaded;
}

LoadedCheckpoint load_checkpoint_into(const fs::path& dir, MoeTransformer& model, const LoadOptions& options) {
  LoadedCheckpoint loaded;
  loaded.metadata = read_checkpoint_metadata(dir);
  const std::string difference = first_config_difference(loaded.metadata.config, model.config());
  if (!difference.empty()) {
    throw CheckpointError(fmt::format("{}: config differs from the model's: {}", (dir / kMetadataFile).string(),
                                      difference));
  }
  if (loaded.metadata.group_sizes != model.group_sizes()) {
    throw CheckpointError(fmt::format("{}: expert groups [{}] differ from the model's [{}]",
                                      (dir / kMetadataFile).string(), fmt::join(loaded.metadata.group_sizes, ", "),
                                      fmt::join(model.group_sizes(), ", ")));
  }
  if (options.verify_checksums) verify_checkpoint_checksums(dir);
  const CheckpointTensors tensors = open_tensors(dir, loaded.metadata);
  fill_parameters(tensors.model, model);
  loaded.extra_tensors = read_extra(tensors.extra, model.device());
  return loaded;
}

std::vector<std::string> checkpoint_tensor_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& tensor : open_tensors(dir, read_checkpoint_metadata(dir)).model.tensors) {
    names.push_back(tensor.name);
  }
  return names;
}

torch::Tensor read_checkpoint_tensor(const fs::path& dir, const std::string& name) {
  const StoredTensors stored = open_tensors(dir, read_checkpoint_metadata(dir)).model;
  for (const auto& tensor : stored.tensors) {
    if (tensor.name == name) return tensor.read();
  }
  throw CheckpointError(fmt::format("{}: tensor '{}' is missing", stored.source, name));
}

std::optional<CheckpointBlobs> checkpoint_blobs(const fs::path& dir) {
  if (read_checkpoint_metadata(dir).format_version < kBlobCheckpointFormatVersion) return std::nullopt;
  const TensorManifest manifest = read_tensor_manifest(dir);
  return CheckpointBlobs{(dir / manifest.blob_dir).lexically_normal(), manifest.blobs()};
}

}  // namespace grove::model
