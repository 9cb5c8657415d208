// Training windows from a train shard: the window for (step, row) starts at a position drawn from (seed, step, row)
// alone, so the trainer's cursor is just the step number and resuming at step i gives the very batches an
// uninterrupted run would have seen. Windows cross document boundaries (each document starts with BOS).
#pragma once

#include <cstdint>
#include <memory>

#include "data_streams/shard_reader.h"
#include "data_streams/token_batch.h"

namespace grove::data {

class WindowSampler {
 public:
  // `width` = T + 1 tokens per window. Throws DataError naming the shard when it holds fewer than `width` tokens.
  WindowSampler(std::shared_ptr<const ShardReader> shard, int64_t width, uint64_t seed);

  uint64_t window_start(uint64_t step, int64_t row) const;
  TokenBatch batch(uint64_t step, int64_t rows) const;
  // Writes one window and its target mask at `tokens` / `mask` (used by the mixture sampler).
  void fill_window(uint64_t step, int64_t row, int64_t* tokens, uint8_t* mask) const;

  const ShardReader& shard() const { return *shard_; }
  int64_t width() const { return width_; }

 private:
  std::shared_ptr<const ShardReader> shard_;
  int64_t width_;
  uint64_t seed_;
  uint64_t positions_;  // number of valid start positions
};

}  // namespace grove::data
