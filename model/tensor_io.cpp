#include "model/tensor_io.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <stdexcept>

namespace grove::model {
namespace {

constexpr std::pair<torch::ScalarType, DType> kTypes[] = {
    {torch::kDouble, DType::kF64}, {torch::kFloat, DType::kF32}, {torch::kHalf, DType::kF16},
    {torch::kBFloat16, DType::kBF16}, {torch::kLong, DType::kI64}, {torch::kInt, DType::kI32},
    {torch::kShort, DType::kI16}, {torch::kChar, DType::kI8}, {torch::kByte, DType::kU8},
    {torch::kBool, DType::kBool},
};

}  // namespace

DType dtype_of(torch::ScalarType type) {
  for (const auto& [scalar, dtype] : kTypes) {
    if (scalar == type) return dtype;
  }
  throw std::logic_error(fmt::format("safetensors cannot store tensors of type {}", c10::toString(type)));
}

torch::ScalarType scalar_type_of(DType dtype) {
  for (const auto& [scalar, candidate] : kTypes) {
    if (candidate == dtype) return scalar;
  }
  throw std::logic_error("safetensors dtype without a LibTorch type");
}

uint64_t write_tensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata, std::optional<torch::ScalarType> cast) {
  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    specs.push_back({name, dtype_of(cast.value_or(tensor.scalar_type())), tensor.sizes().vec()});
  }
  SafetensorsWriter writer(path, std::move(specs), metadata);
  for (const auto& [name, tensor] : tensors) {
    const torch::Tensor host = tensor.detach().to(torch::kCPU, cast.value_or(tensor.scalar_type())).contiguous();
    writer.write(host.data_ptr(), host.numel() * host.element_size());
  }
  writer.finish();
  return std::filesystem::file_size(path);
}

torch::Tensor read_tensor(const SafetensorsReader& reader, const std::string& name) {
  const TensorInfo& info = reader.info(name);
  torch::Tensor tensor = torch::empty(info.shape, torch::TensorOptions().dtype(scalar_type_of(info.dtype)));
  reader.read(name, tensor.data_ptr(), tensor.numel() * tensor.element_size());
  return tensor;
}

}  // namespace grove::model
