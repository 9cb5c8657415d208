// The prefetching tensor batches: same contents as the sampler's plain batches, inputs/targets as shifted views,
// resuming from the saved cursor continues the sequence, producer errors reach the consumer, and destroying the
// iterator mid-stream stops its thread cleanly.
#include "data_streams/batch_iterator.h"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>

#include "common/errors.h"
#include "data_streams/holdout_windows.h"
#include "data_streams/shard_writer.h"
#include "data_streams/window_sampler.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

std::shared_ptr<const ShardReader> make_shard(const testing::TempDir& dir) {
  ShardWriter writer(dir / "train", 8000, 1, 3, 0);
  for (TokenId d = 0; d < 300; ++d) {
    const std::vector<TokenId> tokens{1, 4 + d, 5 + d, 6 + d, 7 + (d % 13)};
    writer.add(tokens, 9);
  }
  return std::make_shared<const ShardReader>(ShardReader::open(writer.finish().index_path));
}

TEST(BatchIterator, TensorsMatchTheSamplerAndResumeFromTheCursor) {
  testing::TempDir dir;
  const WindowSampler sampler(make_shard(dir), 33, 5);
  const BatchSource source = [&](uint64_t step) -> std::optional<TokenBatch> { return sampler.batch(step, 4); };
  uint64_t cursor = 0;
  {
    BatchIterator iterator(source, 0, 2);
    for (uint64_t step = 0; step < 5; ++step) {
      const auto batch = iterator.next();
      ASSERT_TRUE(batch);
      EXPECT_EQ(batch->index, step);
      ASSERT_EQ(batch->tokens.sizes(), (std::vector<int64_t>{4, 33}));
      EXPECT_EQ(batch->tokens.scalar_type(), torch::kInt64);
      EXPECT_EQ(batch->mask.scalar_type(), torch::kBool);
      const TokenBatch expected = sampler.batch(step, 4);
      const auto flat = batch->tokens.contiguous().view({-1});
      for (size_t i = 0; i < expected.tokens.size(); ++i) ASSERT_EQ(flat[static_cast<int64_t>(i)].item<int64_t>(), expected.tokens[i]);
      EXPECT_TRUE(torch::equal(batch->inputs, batch->tokens.slice(1, 0, 32)));
      EXPECT_TRUE(torch::equal(batch->targets, batch->tokens.slice(1, 1, 33)));
      EXPECT_EQ(batch->mask.sum().item<int64_t>(),
                std::accumulate(expected.target_mask.begin(), expected.target_mask.end(), int64_t{0}));
    }
    cursor = iterator.cursor();
  }  // destroyed with batches still prefetched
  EXPECT_EQ(cursor, 5u);
  BatchIterator resumed(source, cursor, 2, 3);
  for (uint64_t step = 5; step < 8; ++step) {
    const auto batch = resumed.next();
    ASSERT_TRUE(batch);
    const TokenBatch expected = sampler.batch(step, 4);
    EXPECT_EQ(batch->tokens.view({-1})[0].item<int64_t>(), expected.tokens[0]);
  }
  EXPECT_FALSE(resumed.next());  // count reached
}

TEST(BatchIterator, FiniteSourceEndsAndErrorsPropagate) {
  testing::TempDir dir;
  const HoldoutWindows holdout(make_shard(dir), 17);
  BatchIterator iterator(holdout.source(8), 0);
  uint64_t bytes = 0, batches = 0;
  while (auto batch = iterator.next()) {
    bytes += batch->bytes;
    ++batches;
  }
  EXPECT_EQ(bytes, holdout.bytes());
  EXPECT_EQ(batches, (holdout.windows() + 7) / 8);

  const BatchSource failing = [](uint64_t index) -> std::optional<TokenBatch> {
    if (index == 2) throw DataError("shard.index: checksum mismatch");
    TokenBatch batch;
    batch.rows = 1;
    batch.width = 2;
    batch.tokens = {1, 2};
    batch.target_mask = {1};
    return batch;
  };
  BatchIterator broken(failing, 0);
  EXPECT_TRUE(broken.next());
  EXPECT_TRUE(broken.next());
  EXPECT_THROW(broken.next(), DataError);
}

}  // namespace
}  // namespace grove::data
