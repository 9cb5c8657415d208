#include "data_streams/holdout_windows.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/errors.h"

namespace grove::data {

HoldoutWindows::HoldoutWindows(std::shared_ptr<const ShardReader> shard, int64_t width, uint64_t max_tokens)
    : shard_(std::move(shard)), width_(width) {
  if (width_ < 2) throw DataError(fmt::format("holdout windows: width {} must be at least 2 (T + 1)", width_));
  if (shard_->docs() == 0) {
    throw DataError(fmt::format("{}: the holdout has no documents (raise the distribution's holdout fraction)",
                                shard_->index_path().string()));
  }
  for (uint64_t d = 0; d < shard_->docs(); ++d) {
    const ShardDocument doc = shard_->document(d);
    if (max_tokens > 0 && tokens_ == max_tokens) break;
    const uint64_t room = max_tokens > 0 ? max_tokens - tokens_ : std::numeric_limits<uint64_t>::max();
    ++docs_;
    if (doc.token_count <= room) {
      tokens_ += doc.token_count;
      bytes_ += doc.utf8_bytes;
      last_doc_bytes_ = doc.utf8_bytes;
      continue;
    }
    // The budget ends inside this document: keep its BOS and the first room - 1 pieces, and count the share of its
    // bytes those pieces are of its pieces (rounded), since the shard records bytes per document only.
    const uint64_t pieces = doc.token_count - 1, kept = room - 1;  // room < token_count, so pieces >= 1
    last_doc_bytes_ = static_cast<uint64_t>(
        std::llround(static_cast<double>(doc.utf8_bytes) * static_cast<double>(kept) / static_cast<double>(pieces)));
    tokens_ += room;
    bytes_ += last_doc_bytes_;
    truncated_ = true;
    break;
  }
  const auto step = static_cast<uint64_t>(width_ - 1);
  windows_ = tokens_ < 2 ? 0 : (tokens_ - 1 + step - 1) / step;
}

uint64_t HoldoutWindows::targets() const {
  uint64_t count = 0;
  for (uint64_t i = 1; i < tokens_; ++i) count += shard_->token(i) != shard_->bos_id() ? 1 : 0;
  return count;
}

std::optional<TokenBatch> HoldoutWindows::batch(uint64_t index, int64_t rows) const {
  const uint64_t first = index * static_cast<uint64_t>(rows);
  if (first >= windows_) return std::nullopt;
  const auto count = static_cast<int64_t>(std::min<uint64_t>(static_cast<uint64_t>(rows), windows_ - first));
  const auto step = static_cast<uint64_t>(width_ - 1);
  const auto pad = static_cast<int64_t>(shard_->pad_id());
  const auto bos = static_cast<int64_t>(shard_->bos_id());
  TokenBatch batch = make_token_batch(count, width_, pad);
  for (int64_t r = 0; r < count; ++r) {
    const uint64_t start = (first + static_cast<uint64_t>(r)) * step;
    const uint64_t available = std::min<uint64_t>(static_cast<uint64_t>(width_), tokens_ - start);
    int64_t* row = batch.tokens.data() + r * width_;
    shard_->copy_tokens(start, available, row);
    uint8_t* mask = batch.target_mask.data() + r * (width_ - 1);
    for (uint64_t t = 1; t < available; ++t) mask[t - 1] = row[t] != bos ? 1 : 0;
  }
  // Attribute each covered document's bytes to the batch holding its first token, so batches sum to bytes().
  const uint64_t begin_token = first * step;
  const uint64_t end_token = std::min(tokens_, (first + static_cast<uint64_t>(count)) * step);
  for (uint64_t d = 0; d < docs_; ++d) {
    const ShardDocument doc = shard_->document(d);
    if (doc.token_offset >= end_token) break;
    if (doc.token_offset >= begin_token) batch.bytes += d + 1 == docs_ ? last_doc_bytes_ : doc.utf8_bytes;
  }
  return batch;
}

BatchSource HoldoutWindows::source(int64_t rows) const {
  return [this, rows](uint64_t index) { return batch(index, rows); };
}

}  // namespace grove::data
