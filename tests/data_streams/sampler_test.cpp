// Sampling from shards as training and evaluation need it: windows are a pure function of (seed, step) so a resumed
// run sees the same batches, replay mixtures follow their weights, and the holdout iterator covers every target
// exactly once and reports the bytes behind them.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>

#include "common/errors.h"
#include "data_streams/holdout_windows.h"
#include "data_streams/mixture_sampler.h"
#include "data_streams/shard_writer.h"
#include "data_streams/window_sampler.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

using testing::TempDir;
constexpr TokenId kBos = 1, kPad = 3;

// A shard of `docs` documents; document d is [BOS, base + d·100 + 1, ...] of 2 + d % 5 pieces, bytes = 10 + d.
std::shared_ptr<const ShardReader> make_shard(const TempDir& dir, const std::string& name, int docs, TokenId base) {
  ShardWriter writer(dir / name, 8000, kBos, kPad, 0);
  for (int d = 0; d < docs; ++d) {
    std::vector<TokenId> tokens{kBos};
    for (int k = 0; k < 2 + d % 5; ++k) tokens.push_back(base + static_cast<TokenId>(d * 10 + k % 10) + 4);
    writer.add(tokens, 10 + static_cast<uint64_t>(d));
  }
  const auto info = writer.finish();
  return std::make_shared<const ShardReader>(ShardReader::open(info.index_path));
}

TEST(WindowSampler, BatchesArePureFunctionsOfSeedAndStep) {
  TempDir dir;
  const auto shard = make_shard(dir, "train", 200, 0);
  const WindowSampler sampler(shard, 17, 1234);
  const TokenBatch a = sampler.batch(41, 8);
  const WindowSampler resumed(shard, 17, 1234);  // a fresh sampler after a restart
  const TokenBatch b = resumed.batch(41, 8);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.target_mask, b.target_mask);
  EXPECT_NE(sampler.batch(42, 8).tokens, a.tokens);
  EXPECT_NE(WindowSampler(shard, 17, 99).batch(41, 8).tokens, a.tokens);
  ASSERT_EQ(a.tokens.size(), 8u * 17u);
  for (int64_t r = 0; r < 8; ++r) {
    const uint64_t start = sampler.window_start(41, r);
    for (int64_t t = 0; t < 17; ++t) {
      EXPECT_EQ(a.tokens[r * 17 + t], static_cast<int64_t>(shard->token(start + t)));
      if (t > 0) {
        EXPECT_EQ(a.target_mask[r * 16 + t - 1], shard->token(start + t) != kBos ? 1 : 0);
      }
    }
  }
}

TEST(WindowSampler, ShardShorterThanAWindowIsAnErrorNamingIt) {
  TempDir dir;
  const auto shard = make_shard(dir, "tiny", 2, 0);
  try {
    WindowSampler(shard, 64, 0);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("tiny.index"), std::string::npos) << e.what();
  }
}

TEST(MixtureSampler, RowsFollowTheWeightsAndComeFromTheirShard) {
  TempDir dir;
  const auto old_data = make_shard(dir, "old", 100, 0);
  const auto new_data = make_shard(dir, "new", 100, 4000);
  const MixtureSampler mixture({{new_data, 3.0}, {old_data, 1.0}}, 9, 7);
  EXPECT_DOUBLE_EQ(mixture.share(0), 0.75);
  size_t from_new = 0, total = 0;
  for (uint64_t step = 0; step < 500; ++step) {
    const TokenBatch batch = mixture.batch(step, 8);
    for (int64_t r = 0; r < 8; ++r) {
      const size_t c = mixture.component_of(step, r);
      from_new += c == 0;
      ++total;
      for (int64_t t = 0; t < 9; ++t) {
        const int64_t token = batch.tokens[r * 9 + t];
        if (token != kBos) {
          EXPECT_EQ(token >= 4000, c == 0);
        }
      }
    }
  }
  EXPECT_NEAR(static_cast<double>(from_new) / total, 0.75, 0.03);
  EXPECT_EQ(mixture.batch(77, 8).tokens, MixtureSampler({{new_data, 3.0}, {old_data, 1.0}}, 9, 7).batch(77, 8).tokens);
  EXPECT_THROW(MixtureSampler({{new_data, 0.0}}, 9, 7), DataError);
}

TEST(HoldoutWindows, EveryTargetIsCoveredExactlyOnceAndBytesAddUp) {
  TempDir dir;
  const auto shard = make_shard(dir, "holdout", 37, 0);
  for (const int64_t width : {2, 5, 16, 1000}) {
    const HoldoutWindows holdout(shard, width);
    std::vector<int64_t> stream;
    uint64_t bytes = 0, unmasked = 0;
    for (uint64_t index = 0;; ++index) {
      const auto batch = holdout.batch(index, 3);
      if (!batch) break;
      bytes += batch->bytes;
      for (int64_t r = 0; r < batch->rows; ++r) {
        for (int64_t t = 1; t < width; ++t) {
          const bool masked_in = batch->target_mask[r * (width - 1) + t - 1] != 0;
          const int64_t target = batch->tokens[r * width + t];
          unmasked += masked_in;
          if (target != kPad) stream.push_back(target);
          if (masked_in) {
            EXPECT_NE(target, kBos);
          }
        }
      }
    }
    // The targets, in order, are the token stream without its first token: each exactly once.
    ASSERT_EQ(stream.size(), shard->tokens() - 1) << width;
    for (size_t i = 0; i < stream.size(); ++i) EXPECT_EQ(stream[i], static_cast<int64_t>(shard->token(i + 1)));
    EXPECT_EQ(unmasked, holdout.targets());
    EXPECT_EQ(unmasked, shard->tokens() - 37);  // every token but the 37 BOS
    EXPECT_EQ(bytes, holdout.bytes());
    EXPECT_EQ(holdout.bytes(), shard->bytes());
  }
}

TEST(HoldoutWindows, TokenBudgetIsATrueCapCuttingTheLastDocumentTaken) {
  TempDir dir;
  // Documents 0..4 have 3, 4, 5, 6, 7 tokens (BOS included) and 10..14 bytes.
  const auto shard = make_shard(dir, "holdout", 37, 0);
  struct Case {
    uint64_t budget, docs, bytes;
    bool truncated;
  };
  for (const Case& c : {Case{2, 1, 5, true},                          // the first document is over it: 1 of 2 pieces
                        Case{3, 1, 10, false},                        // exactly the first document
                        Case{18, 4, 10 + 11 + 12 + 13, false},        // a document boundary
                        Case{20, 5, 10 + 11 + 12 + 13 + 2, true}}) {  // 1 of document 4's 6 pieces: 14 / 6 bytes
    SCOPED_TRACE(c.budget);
    const HoldoutWindows limited(shard, 8, c.budget);
    EXPECT_EQ(limited.tokens(), c.budget);
    EXPECT_EQ(limited.docs(), c.docs);
    EXPECT_EQ(limited.bytes(), c.bytes);
    EXPECT_EQ(limited.truncated(), c.truncated);
  }
  // Every budget: exactly min(budget, tokens) tokens, in windows of the same width, each target once, in order, and
  // the batches' bytes add up to bytes().
  for (uint64_t budget = 1; budget <= shard->tokens() + 2; ++budget) {
    SCOPED_TRACE(budget);
    const HoldoutWindows limited(shard, 8, budget);
    const uint64_t expected_tokens = std::min<uint64_t>(budget, shard->tokens());
    ASSERT_EQ(limited.tokens(), expected_tokens);
    const ShardDocument last = shard->document(limited.docs() - 1);
    EXPECT_EQ(limited.truncated(), last.token_offset + last.token_count > expected_tokens);
    EXPECT_EQ(limited.targets(), expected_tokens - limited.docs()) << "every token but the BOS of each document";
    std::vector<int64_t> stream;
    uint64_t bytes = 0;
    for (uint64_t index = 0;; ++index) {
      const auto batch = limited.batch(index, 3);
      if (!batch) break;
      ASSERT_EQ(batch->width, 8);
      bytes += batch->bytes;
      for (int64_t r = 0; r < batch->rows; ++r) {
        for (int64_t t = 1; t < 8; ++t) {
          const int64_t target = batch->tokens[r * 8 + t];
          if (target != kPad) stream.push_back(target);
        }
      }
    }
    ASSERT_EQ(stream.size(), expected_tokens - 1);
    for (size_t i = 0; i < stream.size(); ++i) EXPECT_EQ(stream[i], static_cast<int64_t>(shard->token(i + 1)));
    EXPECT_EQ(bytes, limited.bytes());
  }
  const HoldoutWindows all(shard, 8);
  EXPECT_EQ(all.tokens(), shard->tokens());
  EXPECT_FALSE(all.truncated());
}

}  // namespace
}  // namespace grove::data
