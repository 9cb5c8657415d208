#include "model/blob_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <system_error>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/hashing.h"
#include "model/abandoned_writes.h"
#include "model/tensor_io.h"
#include "model/tensor_manifest.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

constexpr const char* kBlobTensor = "tensor";  // the one tensor's name inside a blob file

Xxh3Stream descriptor_hash(DType dtype, const std::vector<int64_t>& shape) {
  Xxh3Stream hash;
  hash.update(fmt::format("{}[{}]", dtype_name(dtype), fmt::join(shape, ",")));
  return hash;
}

}  // namespace

std::string blob_hash(DType dtype, const std::vector<int64_t>& shape, const void* data, size_t size) {
  Xxh3Stream hash = descriptor_hash(dtype, shape);
  hash.update(data, size);
  return hash_hex(hash.digest());
}

fs::path BlobStore::path_of(std::string_view blob) const {
  return dir_ / blob_file_name(blob);
}

bool BlobStore::intact(const fs::path& path, std::string_view blob) const {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return false;
  try {
    const SafetensorsReader reader(path);
    if (reader.tensors().size() != 1 || reader.tensors()[0].name != kBlobTensor) return false;
    const TensorInfo& info = reader.tensors()[0];
    // One tensor and no holes (the reader checks both): its bytes are the file's last byte_size() bytes.
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(fs::file_size(path) - info.byte_size()));
    Xxh3Stream hash = descriptor_hash(info.dtype, info.shape);
    std::vector<char> block(size_t{8} << 20);
    uint64_t left = info.byte_size();
    while (left > 0 && in) {
      const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, block.size()));
      in.read(block.data(), n);
      if (in.gcount() != n) return false;
      hash.update(block.data(), static_cast<size_t>(n));
      left -= static_cast<uint64_t>(n);
    }
    return left == 0 && hash_hex(hash.digest()) == blob;
  } catch (const CheckpointError&) {
    return false;
  }
}

BlobStore::Stored BlobStore::put(const torch::Tensor& tensor) {
  const torch::Tensor host = tensor.detach().to(torch::kCPU).contiguous();
  Stored stored;
  stored.dtype = dtype_of(host.scalar_type());
  stored.shape = host.sizes().vec();
  const size_t size = static_cast<size_t>(host.numel()) * host.element_size();
  stored.blob = blob_hash(stored.dtype, stored.shape, host.data_ptr(), size);
  const fs::path path = path_of(stored.blob);
  if (intact(path, stored.blob)) return stored;

  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    throw CheckpointError(fmt::format("{}: cannot create the blob store: {}", dir_.string(), error.message()),
                          ExitCode::kRuntime);
  }
  std::random_device random;
  fs::path temp = path;
  temp += fmt::format(".tmp-{}-{:08x}", ::getpid(), random());
  {
    SafetensorsWriter writer(temp, {{kBlobTensor, stored.dtype, stored.shape}});
    writer.write(host.data_ptr(), size);
    writer.finish();  // fsynced
  }
  fs::rename(temp, path, error);
  if (error) {
    fs::remove(temp, error);
    throw CheckpointError(fmt::format("{}: rename into the blob store failed: {}", path.string(), error.message()),
                          ExitCode::kRuntime);
  }
  stored.bytes_written = fs::file_size(path);
  return stored;
}

void BlobStore::sync() const {
  if (fs::exists(dir_)) fsync_path(dir_);
}

torch::Tensor BlobStore::read(std::string_view blob, DType dtype, const std::vector<int64_t>& shape) const {
  const fs::path path = path_of(blob);
  if (!fs::is_regular_file(path)) {
    throw CheckpointError(fmt::format("{}: blob missing from the run's blob store", path.string()));
  }
  const SafetensorsReader reader(path);
  if (reader.tensors().size() != 1 || reader.tensors()[0].name != kBlobTensor) {
    throw CheckpointError(
        fmt::format("{}: not a blob (expected exactly one tensor named '{}')", path.string(), kBlobTensor));
  }
  const TensorInfo& info = reader.tensors()[0];
  if (info.dtype != dtype || info.shape != shape) {
    throw CheckpointError(fmt::format("{}: holds {} [{}], the checkpoint expects {} [{}]", path.string(),
                                      dtype_name(info.dtype), fmt::join(info.shape, ", "), dtype_name(dtype),
                                      fmt::join(shape, ", ")));
  }
  torch::Tensor tensor = read_tensor(reader, kBlobTensor);
  const std::string actual =
      blob_hash(info.dtype, info.shape, tensor.data_ptr(), static_cast<size_t>(tensor.numel()) * tensor.element_size());
  if (actual != blob) {
    throw CheckpointError(
        fmt::format("{}: content hashes to {}, not to its name: the blob was altered after it was "
                    "written",
                    path.string(), actual));
  }
  return tensor;
}

uint64_t BlobStore::remove_unreferenced(const std::set<std::string>& keep) const {
  uint64_t freed = 0;
  std::vector<fs::path> unreferenced;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    const std::string blob = entry.path().stem().string();
    if (is_blob_name(blob) && entry.path().filename() == blob_file_name(blob) && !keep.contains(blob)) {
      unreferenced.push_back(entry.path());
    }
  }
  for (const auto& path : unreferenced) {
    std::error_code failed;
    const uint64_t size = fs::file_size(path, failed);
    if (!failed && fs::remove(path, failed)) freed += size;
  }
  remove_abandoned_temporaries(dir_);
  return freed;
}

uint64_t BlobStore::bytes() const {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    std::error_code failed;
    const uint64_t size = entry.is_regular_file(failed) ? entry.file_size(failed) : 0;
    if (!failed) total += size;
  }
  return total;
}

}  // namespace grove::model
