// Deterministic evaluation over a holdout shard: the holdout documents in shard order (all, or the first
// `max_tokens` tokens of them, the last document taken cut where the budget ends) as one token stream cut into
// windows of T+1 that overlap by one token, so every token after the first is a target exactly once. Targets that
// are BOS (a document boundary) or padding (the end of the last window) are masked out, so bits per byte = sum of
// masked NLL / ln 2 / bytes().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "data_streams/shard_reader.h"
#include "data_streams/token_batch.h"

namespace grove::data {

class HoldoutWindows {
 public:
  // `width` = T + 1; `max_tokens` 0 takes every document, otherwise exactly min(max_tokens, shard tokens) tokens:
  // the whole documents that fit, then the next one (the first one too) cut to the tokens left. Throws DataError
  // naming the shard when it has no documents.
  HoldoutWindows(std::shared_ptr<const ShardReader> shard, int64_t width, uint64_t max_tokens = 0);

  uint64_t docs() const { return docs_; }      // documents covered, a cut one included
  uint64_t tokens() const { return tokens_; }  // their tokens taken (BOS included), at most max_tokens
  // Their UTF-8 bytes, the bits-per-byte denominator: whole documents' byte counts, and for a cut document its byte
  // count × pieces kept / pieces (rounded; BOS is no piece): the shard records bytes per document, not per token.
  uint64_t bytes() const { return bytes_; }
  bool truncated() const { return truncated_; }  // whether the last document covered is cut by the budget
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
  uint64_t last_doc_bytes_ = 0;  // bytes counted for the last document covered (cut or whole)
  bool truncated_ = false;
};

}  // namespace grove::data
