#include "data_streams/batch_iterator.h"

#include <cstring>
#include <limits>

namespace grove::data {

TensorBatch to_tensors(const TokenBatch& batch, uint64_t index, bool pinned) {
  TensorBatch out;
  out.index = index;
  out.bytes = batch.bytes;
  const auto options = torch::TensorOptions().pinned_memory(pinned);
  out.tokens = torch::empty({batch.rows, batch.width}, options.dtype(torch::kInt64));
  std::memcpy(out.tokens.data_ptr<int64_t>(), batch.tokens.data(), batch.tokens.size() * sizeof(int64_t));
  out.mask = torch::empty({batch.rows, batch.width - 1}, options.dtype(torch::kBool));
  static_assert(sizeof(bool) == sizeof(uint8_t));
  std::memcpy(out.mask.data_ptr<bool>(), batch.target_mask.data(), batch.target_mask.size());
  out.inputs = out.tokens.slice(1, 0, batch.width - 1);
  out.targets = out.tokens.slice(1, 1, batch.width);
  return out;
}

BatchIterator::BatchIterator(BatchSource source, uint64_t first_index, size_t queue_depth,
                             std::optional<uint64_t> count)
    : source_(std::move(source)),
      cursor_(first_index),
      end_(count ? first_index + *count : std::numeric_limits<uint64_t>::max()),
      queue_depth_(queue_depth == 0 ? 1 : queue_depth),
      pinned_(torch::cuda::is_available()) {
  worker_ = std::thread([this] { produce(); });
}

BatchIterator::~BatchIterator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void BatchIterator::produce() {
  uint64_t index = cursor_;
  try {
    while (index < end_) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || queue_.size() < queue_depth_; });
        if (stopping_) return;
      }
      std::optional<TokenBatch> batch = source_(index);
      if (!batch) break;
      TensorBatch tensors = to_tensors(*batch, index, pinned_);
      {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(tensors));
      }
      changed_.notify_all();
      ++index;
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  changed_.notify_all();
}

std::optional<TensorBatch> BatchIterator::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty() || finished_; });
  if (queue_.empty()) {
    if (error_) std::rethrow_exception(error_);
    return std::nullopt;
  }
  TensorBatch batch = std::move(queue_.front());
  queue_.pop_front();
  cursor_ = batch.index + 1;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace grove::data
