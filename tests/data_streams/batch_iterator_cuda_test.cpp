// On a CUDA machine the prefetched batches sit in pinned host memory, so copies to the GPU can be asynchronous.
#include <gtest/gtest.h>

#include "data_streams/batch_iterator.h"

namespace grove::data {
namespace {

TEST(BatchIteratorCuda, BatchesArePinnedAndCopyToTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const BatchSource source = [](uint64_t index) -> std::optional<TokenBatch> {
    TokenBatch batch;
    batch.rows = 2;
    batch.width = 3;
    batch.tokens = {1, 5, 6, 1, 7, static_cast<int64_t>(index)};
    batch.target_mask = {1, 1, 1, 1};
    return batch;
  };
  BatchIterator iterator(source, 0, 2, 2);
  EXPECT_TRUE(iterator.pinned());
  const auto batch = iterator.next();
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->tokens.is_pinned());
  const auto on_gpu = batch->tokens.to(torch::kCUDA, /*non_blocking=*/true);
  EXPECT_EQ(on_gpu.sum().item<int64_t>(), 20);
}

}  // namespace
}  // namespace grove::data
