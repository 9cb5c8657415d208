#include "model/checkpoint_disk_usage.h"

#include <system_error>

#include "common/errors.h"
#include "model/checkpoint_metadata.h"
#include "model/tensor_manifest.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

uint64_t file_bytes(const fs::path& path) {
  std::error_code error;
  const uint64_t size = fs::file_size(path, error);
  return error ? 0 : size;
}

}  // namespace

uint64_t CheckpointDiskUsage::add(const std::vector<fs::path>& checkpoint_dirs) {
  uint64_t bytes = 0;
  for (const auto& dir : checkpoint_dirs) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) bytes += file_bytes(entry.path());
    if (error || !fs::exists(dir / kTensorManifestFile)) continue;
    try {
      const TensorManifest manifest = read_tensor_manifest(dir);
      const fs::path store = (dir / manifest.blob_dir).lexically_normal();
      for (const auto& blob : manifest.blobs()) {
        const fs::path path = store / blob_file_name(blob);
        if (counted_blobs_.insert(path).second) bytes += file_bytes(path);
      }
    } catch (const CheckpointError&) {
      // an unreadable manifest: its folder's files are all it is known to use
    }
  }
  return bytes;
}

}  // namespace grove::model
