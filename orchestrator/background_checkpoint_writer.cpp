#include "orchestrator/background_checkpoint_writer.h"

#include <stdexcept>

namespace grove::orch {

BackgroundCheckpointWriter::~BackgroundCheckpointWriter() {
  if (in_flight_.valid()) in_flight_.wait();
}

void BackgroundCheckpointWriter::start(std::filesystem::path dir, model::CheckpointContent content,
                                       model::BlobStore blobs) {
  if (busy()) throw std::logic_error("background checkpoint writer: a write is already in flight");
  in_flight_ = std::async(std::launch::async,
                          [dir = std::move(dir), content = std::move(content), blobs = std::move(blobs)]() mutable {
                            Written written;
                            written.summary = model::save_checkpoint(dir, content, &blobs);
                            written.dir = dir;
                            written.step = content.step;
                            return written;
                          });
}

std::optional<BackgroundCheckpointWriter::Written> BackgroundCheckpointWriter::finish() {
  if (!in_flight_.valid()) return std::nullopt;
  return in_flight_.get();  // get() leaves the future invalid, error or not
}

}  // namespace grove::orch
