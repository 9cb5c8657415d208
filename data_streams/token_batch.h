// A batch of token windows as plain memory, shared by the samplers and the tensor batch iterator: `rows` windows of
// `width` = T+1 tokens (inputs are [:, :T], targets [:, 1:]) and a mask over the T targets that is 0 where the
// target is BOS or padding (nothing to predict there).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace grove::data {

struct TokenBatch {
  int64_t rows = 0;
  int64_t width = 0;                 // T + 1
  std::vector<int64_t> tokens;       // rows × width, row-major
  std::vector<uint8_t> target_mask;  // rows × (width - 1)
  uint64_t bytes = 0;                // holdout batches: UTF-8 bytes of the documents that start in this batch
};

// An empty batch of `rows` windows of `width` tokens, every token `fill` and every target masked out.
inline TokenBatch make_token_batch(int64_t rows, int64_t width, int64_t fill = 0) {
  TokenBatch batch;
  batch.rows = rows;
  batch.width = width;
  batch.tokens.assign(static_cast<size_t>(rows * width), fill);
  batch.target_mask.assign(static_cast<size_t>(rows * (width - 1)), 0);
  return batch;
}

// Produces batch number `index` (a pure function of the index for samplers, so a saved index resumes exactly), or
// nothing when a finite source (the holdout) is exhausted.
using BatchSource = std::function<std::optional<TokenBatch>(uint64_t index)>;

// Deterministic 64-bit mixing of (seed, a, b) (splitmix64 finalizer over a combined key): the counter-based random
// numbers the samplers draw, so any step can be recomputed without replaying the ones before it.
inline uint64_t counter_hash(uint64_t seed, uint64_t a, uint64_t b) {
  auto mix = [](uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(seed) ^ a) ^ b);
}

// A uniform double in [0, 1) from a counter hash.
inline double counter_unit(uint64_t hash) { return static_cast<double>(hash >> 11) * 0x1.0p-53; }

}  // namespace grove::data
