// Prefetching LibTorch batches: a background thread turns a BatchSource's plain batches into int64 tensors
// [B, T+1] (pinned host memory when CUDA is usable, so the copy to the GPU can overlap compute) while the trainer
// works on the previous one; a bounded queue caps memory. The destructor stops and joins the thread.
// The only data_streams file that includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "data_streams/token_batch.h"

namespace grove::data {

struct TensorBatch {
  uint64_t index = 0;     // the source index it came from: the next cursor is index + 1
  torch::Tensor tokens;   // int64 [B, T+1]
  torch::Tensor inputs;   // tokens[:, :T] (a view)
  torch::Tensor targets;  // tokens[:, 1:] (a view)
  torch::Tensor mask;     // bool [B, T]: false where the target is BOS or padding
  uint64_t bytes = 0;     // see TokenBatch::bytes
};

// Converts one plain batch (pinned when `pinned`).
TensorBatch to_tensors(const TokenBatch& batch, uint64_t index, bool pinned);

class BatchIterator {
 public:
  // Produces batches `first_index`, `first_index + 1`, ... until the source returns nothing or `count` batches
  // (when given) were produced. `queue_depth` batches are prepared ahead at most.
  BatchIterator(BatchSource source, uint64_t first_index, size_t queue_depth = 4,
                std::optional<uint64_t> count = std::nullopt);
  ~BatchIterator();
  BatchIterator(const BatchIterator&) = delete;
  BatchIterator& operator=(const BatchIterator&) = delete;

  // The next batch in index order (blocks until ready); nothing at the end. An exception thrown by the source is
  // rethrown here.
  std::optional<TensorBatch> next();
  // The index of the batch next() will return: the cursor to save.
  uint64_t cursor() const { return cursor_; }
  bool pinned() const { return pinned_; }

 private:
  void produce();

  BatchSource source_;
  uint64_t cursor_;
  uint64_t end_;
  size_t queue_depth_;
  bool pinned_;
  std::deque<TensorBatch> queue_;
  bool finished_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread worker_;
};

}  // namespace grove::data
