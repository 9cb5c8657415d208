// Each LibTorch compatibility shim against an independent computation, on CPU (and on CUDA where present).
#include "model/torch_compat.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace grove::compat {
namespace {

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kDouble) - b.to(torch::kDouble)).norm() / b.to(torch::kDouble).norm()).item<double>();
}

TEST(TorchCompat, VersionMatchesCompiledHeaders) {
  EXPECT_EQ(torch_version().rfind(std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR), 0),
            0u);
}

TEST(TorchCompat, GroupedMmEqualsPerGroupMatmulIncludingEmptyGroupsAndTail) {
  torch::manual_seed(7);
  const auto a = torch::randn({10, 4}, torch::requires_grad());
  const auto b = torch::randn({3, 4, 5}, torch::requires_grad());
  // Groups: rows [0,3), [3,3) empty, [3,8); rows 8..9 belong to no group and must come out zero.
  const auto offsets = torch::tensor({3, 3, 8}, torch::kInt);
  const auto out = grouped_mm(a, b, offsets);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{10, 5}));
  EXPECT_TRUE(torch::allclose(out.slice(0, 0, 3), torch::matmul(a.slice(0, 0, 3), b[0])));
  EXPECT_TRUE(torch::allclose(out.slice(0, 3, 8), torch::matmul(a.slice(0, 3, 8), b[2])));
  EXPECT_TRUE(torch::equal(out.slice(0, 8, 10), torch::zeros({2, 5})));

  out.pow(2).sum().backward();
  ASSERT_TRUE(a.grad().defined());
  ASSERT_TRUE(b.grad().defined());
  EXPECT_TRUE(torch::equal(b.grad()[1], torch::zeros({4, 5}))) << "an empty group gets a zero gradient";
  EXPECT_TRUE(torch::equal(a.grad().slice(0, 8, 10), torch::zeros({2, 4})));
}

TEST(TorchCompat, GroupedMmRejectsBadOffsets) {
  const auto a = torch::randn({4, 2});
  const auto b = torch::randn({2, 2, 2});
  EXPECT_THROW(grouped_mm(a, b, torch::tensor({3, 1}, torch::kInt)), c10::Error);
  EXPECT_THROW(grouped_mm(a, b, torch::tensor({3, 9}, torch::kInt)), c10::Error);
  EXPECT_THROW(grouped_mm(a, b, torch::tensor({3}, torch::kInt)), c10::Error);
}

TEST(TorchCompat, NativeGroupedMmOnlyWhereLibTorchHasIt) {
  EXPECT_FALSE(has_native_grouped_mm(torch::Device(torch::kCPU), torch::kBFloat16));
  EXPECT_FALSE(has_native_grouped_mm(torch::Device(torch::kCUDA), torch::kFloat));
  EXPECT_EQ(has_native_grouped_mm(torch::Device(torch::kCUDA), torch::kBFloat16), kTorchAtLeast2_8);
}

TEST(TorchCompat, AttentionMatchesAPerQueryLoop) {
  torch::manual_seed(3);
  const auto q = torch::randn({2, 3, 5, 8});
  const auto k = torch::randn({2, 3, 5, 8});
  const auto v = torch::randn({2, 3, 5, 8});
  const auto fused = scaled_dot_product_attention(q, k, v, /*is_causal=*/true);
  const auto reference = attention_reference(q, k, v, /*is_causal=*/true);
  // Independent loop: query t sees keys 0..t.
  auto expected = torch::empty_like(q);
  for (int64_t t = 0; t < 5; ++t) {
    const auto scores = torch::matmul(q.select(2, t).unsqueeze(2), k.slice(2, 0, t + 1).transpose(-2, -1)) /
                        std::sqrt(8.0);
    expected.select(2, t).copy_(torch::matmul(torch::softmax(scores, -1), v.slice(2, 0, t + 1)).squeeze(2));
  }
  EXPECT_LT(relative_error(reference, expected), 1e-6);
  EXPECT_LT(relative_error(fused, expected), 1e-5);
  // Not causal: every query sees every key, so the first query differs from the causal result.
  const auto full = scaled_dot_product_attention(q, k, v, /*is_causal=*/false);
  EXPECT_LT(relative_error(full, attention_reference(q, k, v, false)), 1e-5);
  EXPECT_GT(relative_error(full.select(2, 0), expected.select(2, 0)), 1e-3);
}

TEST(TorchCompat, AutocastGuardEnablesAndRestores) {
  ASSERT_FALSE(autocast_enabled(torch::kCPU));
  {
    AutocastGuard guard(torch::kCPU, torch::kBFloat16);
    EXPECT_TRUE(autocast_enabled(torch::kCPU));
    EXPECT_EQ(autocast_dtype(torch::kCPU), torch::kBFloat16);
    const auto a = torch::randn({4, 4});
    EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kBFloat16) << "matmul runs in the autocast dtype";
  }
  EXPECT_FALSE(autocast_enabled(torch::kCPU));
  {
    AutocastGuard disabled(torch::kCPU, torch::kBFloat16, /*enabled=*/false);
    EXPECT_FALSE(autocast_enabled(torch::kCPU));
  }
}

TEST(TorchCompat, OptionalSpellingsWork) {
  Optional<int64_t> value = kNullopt;
  EXPECT_FALSE(value.has_value());
  value = 5;
  EXPECT_EQ(*value, 5);
}

TEST(TorchCompat, FusedAdamwOnlyOnCudaWithLibTorch2) {
  EXPECT_FALSE(has_fused_adamw(torch::Device(torch::kCPU)));
  EXPECT_EQ(has_fused_adamw(torch::Device(torch::kCUDA)), kTorchMajor >= 2);
}

TEST(TorchCompat, DeviceTimerMeasuresCpuWork) {
  DeviceTimer timer(torch::Device(torch::kCPU));
  EXPECT_FALSE(timer.uses_device_events());
  timer.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const double elapsed = timer.stop_ms();
  EXPECT_GE(elapsed, 29.0);
  EXPECT_LT(elapsed, 3000.0);
  timer.start();
  EXPECT_LT(timer.stop_ms(), elapsed) << "a second interval starts afresh";
}

}  // namespace
}  // namespace grove::compat
