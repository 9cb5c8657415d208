// CUDA-only checks of the compatibility shims (label `gpu`): the native grouped GEMM against the loop, the norms of a
// mixed-dtype list, the device timer.
#include <gtest/gtest.h>

#include <vector>

#include "model/torch_compat.h"

namespace grove::compat {
namespace {

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kDouble) - b.to(torch::kDouble)).norm() / b.to(torch::kDouble).norm()).item<double>();
}

TEST(TorchCompat, CudaGroupedMmAgreesWithLoopInBf16) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(11);
  const auto options = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kBFloat16);
  const auto a = torch::randn({512, 128}, options);
  const auto b = torch::randn({4, 128, 256}, options);
  const std::vector<int64_t> host_offsets{100, 100, 300, 512};
  const auto offsets = torch::tensor(std::vector<int32_t>{100, 100, 300, 512}, torch::kInt).to(torch::kCUDA);
  EXPECT_LT(relative_error(grouped_mm(a, b, offsets), grouped_mm_loop(a, b, host_offsets)), 1e-2);
}

// Norms of a list that mixes fp32 and bf16 tensors (a training step's gradients: model::ExpertGradients), taken one
// multi-tensor call per dtype: each in its tensor's place, accumulated in fp32 (a bf16 accumulator over 300,000
// squares would be off by far more than 1e-5).
TEST(TorchCompat, CudaTensorNormsOfMixedDtypesStayInOrder) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(12);
  const auto options = torch::TensorOptions().device(torch::kCUDA);
  std::vector<torch::Tensor> tensors;
  for (int i = 0; i < 7; ++i) {
    const torch::Tensor t = torch::randn({300, 1000 + i}, options) * (1.0 + i);  // norms differ: order shows
    tensors.push_back(i % 3 == 1 ? t : t.to(torch::kBFloat16));
  }
  const torch::Tensor norms = tensor_norms(tensors).cpu();
  ASSERT_EQ(norms.scalar_type(), torch::kFloat);
  ASSERT_EQ(norms.numel(), 7);
  for (int i = 0; i < 7; ++i) {
    const double expected = tensors[static_cast<size_t>(i)].to(torch::kDouble).norm().item<double>();
    EXPECT_NEAR(norms[i].item<double>(), expected, 1e-5 * expected) << "tensor " << i;
  }
}

TEST(TorchCompat, CudaDeviceTimerTimesKernels) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device device(torch::kCUDA);
  DeviceTimer timer(device);
  EXPECT_EQ(timer.uses_device_events(), kTorchMajor >= 2);
  const auto a = torch::randn({4096, 4096}, torch::TensorOptions().device(device));
  timer.start();
  for (int i = 0; i < 10; ++i) torch::matmul(a, a);
  const double ms = timer.stop_ms();
  EXPECT_GT(ms, 0.0);
  EXPECT_LT(ms, 10000.0);
}

}  // namespace
}  // namespace grove::compat
