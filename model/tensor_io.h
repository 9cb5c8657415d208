// LibTorch tensors in and out of safetensors files: dtype mapping, writing a named list of tensors, reading one
// tensor into a fresh CPU tensor. Used by checkpoints and the Hugging Face export.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/safetensors.h"

namespace grove::model {

DType dtype_of(torch::ScalarType type);  // std::logic_error for types safetensors cannot hold
torch::ScalarType scalar_type_of(DType dtype);

// Writes `tensors` in order (each copied to a contiguous CPU tensor, cast to `cast` when given, one at a time so
// peak memory stays one tensor above the model's) and fsyncs the file. Returns the file size in bytes.
uint64_t write_tensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {},
                       std::optional<torch::ScalarType> cast = std::nullopt);

// The tensor `name` of an open file as a new CPU tensor of its stored dtype and shape.
torch::Tensor read_tensor(const SafetensorsReader& reader, const std::string& name);

}  // namespace grove::model
