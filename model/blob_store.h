// Content-addressed tensor storage shared by the checkpoints of one run (<run>/blobs): each tensor is a one-tensor
// safetensors file named by the xxh3 of its dtype, shape and bytes. A tensor bit-identical in many checkpoints (a
// frozen expert group, frozen attention or norms) is written once and referenced by every checkpoint that holds it.
// The name is the checksum: every read rehashes what it read, so an altered or truncated blob is never loaded.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/safetensors.h"

namespace grove::model {

// The blob name of a tensor: xxh3-64 (16 hex digits) over its dtype, shape and raw little-endian bytes.
std::string blob_hash(DType dtype, const std::vector<int64_t>& shape, const void* data, size_t size);

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path_of(std::string_view blob) const;

  struct Stored {
    std::string blob;
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;
    uint64_t bytes_written = 0;  // 0 when an intact blob with this content was there already
  };
  // Stores `tensor` (a contiguous CPU copy of it) unless an intact blob of the same content exists. A blob file of
  // that name whose content no longer matches its name (altered on disk) is written again. Each new blob is written
  // to a temporary, fsynced and renamed; call sync() before publishing anything that names it.
  Stored put(const torch::Tensor& tensor);
  // Makes the renames of put() durable (fsyncs the folder).
  void sync() const;

  // The tensor stored as `blob`, as a new CPU tensor, after checking that the file holds exactly one tensor of
  // `dtype` and `shape` and that what was read hashes to the blob's name. CheckpointError naming the file otherwise
  // (missing, truncated, altered).
  torch::Tensor read(std::string_view blob, DType dtype, const std::vector<int64_t>& shape) const;

  // Deletes every blob not in `keep`, and temporaries of writers no longer alive (model/abandoned_writes.h).
  // Returns the bytes freed.
  uint64_t remove_unreferenced(const std::set<std::string>& keep) const;
  // Total size of the blobs in the store.
  uint64_t bytes() const;

 private:
  bool intact(const std::filesystem::path& path, std::string_view blob) const;

  std::filesystem::path dir_;
};

}  // namespace grove::model
