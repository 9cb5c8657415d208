// Deterministic evaluation over a holdout shard: the holdout documents (all, or the first ones that fit a token
// budget, whole documents only) as one token stream cut into windows of T+1 that overlap by one token, so every
// token after the first is a target exactly once. Targets that are BOS (a document boundary) or padding (the end of
// the last window) are masked out, so bits per byte = sum of masked NLL / ln 2 / bytes().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "data_streams/shard_reader.h"
#include "data_streams/token_batch.h"

namespace grove::data {

class HoldoutWindows {
 public:
  // `width` = T + 1; `max_tokens` 0 takes every document, otherwise the first documents whose tokens fit (at least
  // one). Throws DataError naming the shard when it has no documents.
  HoldoutWindows(std::shared_ptr<const ShardReader> shard, int64_t width, uint64_t max_tokens = 0);

  uint64_t docs() const { return docs_; }        // documents covered
  uint64_t tokens() const { return tokens_; }    // their tokens (BOS included)
  uint64_t bytes() const { return bytes_; }      // their UTF-8 bytes: the bits-per-byte denominator
  uint64_t targets() const;                      // targets left unmasked over all windows
  uint64_t windows() const { return windows_; }

  // Windows [index·rows, index·rows + rows) (fewer in the last batch), or nothing past the end.
  std::optional<TokenBatch> batch(uint64_t index, int64_t rows) const;
  // This iterator as a BatchSource of `rows`-window batches.
  BatchSource source(int64_t rows) const;

 private:
  std::shared_ptr<const ShardReader> shard_;
  int64_t width_;
  uint64_t docs_ = 0, tokens_ = 0, bytes_ = 0, windows_ = 0;
};

}  // namespace grove::data
