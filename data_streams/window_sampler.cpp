#include "data_streams/window_sampler.h"

#include <fmt/format.h>

#include "common/errors.h"

namespace grove::data {

WindowSampler::WindowSampler(std::shared_ptr<const ShardReader> shard, int64_t width, uint64_t seed)
    : shard_(std::move(shard)), width_(width), seed_(seed) {
  if (width_ < 2) throw DataError(fmt::format("window sampler: width {} must be at least 2 (T + 1)", width_));
  if (shard_->tokens() < static_cast<uint64_t>(width_)) {
    throw DataError(fmt::format("{}: {} tokens, fewer than one window of {} (sequence length + 1); use a shorter "
                                "sequence length or a larger corpus",
                                shard_->index_path().string(), shard_->tokens(), width_));
  }
  positions_ = shard_->tokens() - static_cast<uint64_t>(width_) + 1;
}

uint64_t WindowSampler::window_start(uint64_t step, int64_t row) const {
  return counter_hash(seed_, step, static_cast<uint64_t>(row)) % positions_;
}

void WindowSampler::fill_window(uint64_t step, int64_t row, int64_t* tokens, uint8_t* mask) const {
  shard_->copy_tokens(window_start(step, row), static_cast<uint64_t>(width_), tokens);
  const auto bos = static_cast<int64_t>(shard_->bos_id());
  const auto pad = static_cast<int64_t>(shard_->pad_id());
  for (int64_t t = 1; t < width_; ++t) mask[t - 1] = (tokens[t] != bos && tokens[t] != pad) ? 1 : 0;
}

TokenBatch WindowSampler::batch(uint64_t step, int64_t rows) const {
  TokenBatch batch = make_token_batch(rows, width_);
  for (int64_t r = 0; r < rows; ++r) {
    fill_window(step, r, batch.tokens.data() + r * width_, batch.target_mask.data() + r * (width_ - 1));
  }
  return batch;
}

}  // namespace grove::data
