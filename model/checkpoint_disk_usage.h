// The disk a run's checkpoints use, phase by phase, when their tensors share a blob store (model/blob_store.h): a blob
// counts once, for the first group of checkpoints that references it, so the per-phase figures add up to what the
// run holds on disk. Readable without LibTorch (`grove registry phases` shows it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <vector>

namespace grove::model {

class CheckpointDiskUsage {
 public:
  // The bytes `checkpoint_dirs` add: their folders' files, and the blobs they reference that no earlier call
  // counted. A folder that is gone, or whose tensors.json cannot be read, adds what its files hold.
  uint64_t add(const std::vector<std::filesystem::path>& checkpoint_dirs);

 private:
  std::set<std::filesystem::path> counted_blobs_;
};

}  // namespace grove::model
