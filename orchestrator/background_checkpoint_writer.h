// Writes periodic checkpoints off the training thread. The training thread hands over a snapshot (host copies of the
// parameters and the optimizer state, model/checkpoint.h snapshot_checkpoint) and goes on; a background thread
// serialises it into the run's blob store, fsyncs and publishes the folder with one rename. At most one write is in
// flight: the next checkpoint, a restore or the phase end first waits for it. Nothing here touches the registry: the
// caller records a checkpoint only once finish() has returned it, that is once it is durable, and a write that failed
// rethrows its error from finish(), so the newest recorded checkpoint is always the last good one.
#pragma once

#include <filesystem>
#include <future>
#include <optional>

#include "model/blob_store.h"
#include "model/checkpoint.h"

namespace grove::orch {

class BackgroundCheckpointWriter {
 public:
  struct Written {
    std::filesystem::path dir;
    int64_t step = 0;
    model::CheckpointSummary summary;
  };

  BackgroundCheckpointWriter() = default;
  // Waits for a write in flight; its result (or error) is dropped, unrecorded.
  ~BackgroundCheckpointWriter();
  BackgroundCheckpointWriter(const BackgroundCheckpointWriter&) = delete;
  BackgroundCheckpointWriter& operator=(const BackgroundCheckpointWriter&) = delete;

  // Starts writing `content` to `dir` with its tensors in `blobs`. Only when no write is in flight (call finish()
  // first).
  void start(std::filesystem::path dir, model::CheckpointContent content, model::BlobStore blobs);
  // Waits for the write in flight and returns it; nullopt when there was none. Rethrows the write's error.
  std::optional<Written> finish();
  bool busy() const { return in_flight_.valid(); }

 private:
  std::future<Written> in_flight_;
};

}  // namespace grove::orch
