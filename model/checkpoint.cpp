#include "model/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/hashing.h"
#include "common/log.h"
#include "model/temp_folder.h"
#include "model/tensor_io.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// Copies every tensor of model.safetensors into the model's parameters, checking names and shapes first.
void fill_parameters(const fs::path& file, MoeTransformer& model) {
  SafetensorsReader reader(file);
  auto parameters = model.named_parameters();
  for (const auto& item : parameters) {
    if (!reader.contains(item.key())) {
      throw CheckpointError(fmt::format("{}: tensor '{}' is missing (the model has it, shape {})", file.string(),
                                        item.key(), shape_text(item.value().sizes())));
    }
    const TensorInfo& info = reader.info(item.key());
    if (at::IntArrayRef(info.shape) != item.value().sizes()) {
      throw CheckpointError(fmt::format("{}: tensor '{}' has shape {}, the model expects {}", file.string(),
                                        item.key(), shape_text(info.shape), shape_text(item.value().sizes())));
    }
  }
  for (const TensorInfo& info : reader.tensors()) {
    if (!parameters.contains(info.name)) {
      throw CheckpointError(fmt::format("{}: tensor '{}' is not a parameter of the model described by {}",
                                        file.string(), info.name, kMetadataFile));
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& item : parameters) item.value().copy_(read_tensor(reader, item.key()));
}

std::map<std::string, torch::Tensor> read_extra(const fs::path& file, const torch::Device& device) {
  SafetensorsReader reader(file);
  std::map<std::string, torch::Tensor> extra;
  for (const TensorInfo& info : reader.tensors()) extra[info.name] = read_tensor(reader, info.name).to(device);
  return extra;
}

std::string first_config_difference(const ModelConfig& a, const ModelConfig& b) {
  const nlohmann::json ja = model_config_to_json(a);
  const nlohmann::json jb = model_config_to_json(b);
  for (const auto& [key, value] : ja.items()) {
    if (jb[key] != value) return fmt::format("model.{}: checkpoint {}, model {}", key, value.dump(), jb[key].dump());
  }
  return "";
}

}  // namespace

CheckpointSummary save_checkpoint(const fs::path& dir, const MoeTransformer& model,
                                  const std::map<std::string, torch::Tensor>& extra_tensors, int64_t step,
                                  const nlohmann::json& extra_metadata) {
  TempFolder temp(dir);
  std::vector<std::pair<std::string, torch::Tensor>> parameters;
  for (const auto& item : model.named_parameters()) parameters.emplace_back(item.key(), item.value());
  write_tensors(temp.path() / kModelTensorsFile, parameters, {{"format", "grove"}});
  std::vector<std::pair<std::string, torch::Tensor>> extra(extra_tensors.begin(), extra_tensors.end());
  write_tensors(temp.path() / kExtraTensorsFile, extra);

  CheckpointMetadata metadata;
  metadata.config = model.config();
  metadata.group_sizes = model.group_sizes();
  metadata.step = step;
  metadata.extra = extra_metadata;
  atomic_write_file(temp.path() / kMetadataFile, checkpoint_metadata_to_json(metadata).dump(2) + "\n");

  CheckpointSummary summary;
  nlohmann::json checksums = nlohmann::json::object();
  for (const char* name : {kModelTensorsFile, kExtraTensorsFile, kMetadataFile}) {
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
  log::debug("checkpoint {}: step {}, {} bytes, xxh3 {}", dir.string(), step, summary.bytes, summary.xxh3);
  return summary;
}

LoadedCheckpoint load_checkpoint(const fs::path& dir, const LoadOptions& options) {
  LoadedCheckpoint loaded;
  loaded.metadata = read_checkpoint_metadata(dir);
  if (options.verify_checksums) verify_checkpoint_checksums(dir);
  loaded.model = std::make_shared<MoeTransformer>(loaded.metadata.config, loaded.metadata.group_sizes,
                                                  /*initialise=*/false);
  fill_parameters(dir / kModelTensorsFile, *loaded.model);
  loaded.model->to(options.device);
  loaded.extra_tensors = read_extra(dir / kExtraTensorsFile, options.device);
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
  fill_parameters(dir / kModelTensorsFile, model);
  loaded.extra_tensors = read_extra(dir / kExtraTensorsFile, model.device());
  return loaded;
}

}  // namespace grove::model
