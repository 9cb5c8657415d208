// The fused CUDA kernels for rotary embeddings and cross-entropy (label `gpu`; skipped without a device) against
// the ATen formulations they replace, forward and backward. The grouped experts' fused kernels are checked in
// moe_gpu_test.cpp.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "model/attention.h"
#include "model/fused_cross_entropy.h"
#include "model/fused_rotary.h"
#include "model/seeded_init.h"
#include "model/torch_compat.h"
#include "tests/model/model_test_util.h"

namespace grove::model {
namespace {
using testing::relative_error;

torch::TensorOptions cuda_float() { return torch::TensorOptions().dtype(torch::kFloat).device(torch::kCUDA); }

TEST(FusedKernels, RotaryMatchesTheAtenFormulationOnAStridedQkView) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const int64_t batch = 2, length = 24, q_heads = 4, kv_heads = 2, head_dim = 64;
  // As attention.cpp builds it: q and k heads are the leading columns of the fused qkv projection.
  const torch::Tensor qkv = seeded_normal({batch, length, (q_heads + 2 * kv_heads) * head_dim}, 1.0, 41)
                                .to(cuda_float())
                                .to(torch::kBFloat16);
  const torch::Tensor x = qkv.narrow(2, 0, (q_heads + kv_heads) * head_dim)
                              .view({batch, length, q_heads + kv_heads, head_dim});
  ASSERT_TRUE(fused::rotary_available(x)) << "a CUDA build compiles the fused kernels";
  const RotaryTables tables = rotary_tables(length, head_dim, 10000.0, torch::Device(torch::kCUDA));
  const torch::Tensor upstream = seeded_normal({batch, length, q_heads + kv_heads, head_dim}, 1.0, 42).to(cuda_float());

  torch::Tensor x_fused = x.detach().clone().requires_grad_(true);
  const torch::Tensor fused_out = fused::rotary(x_fused, tables.cos, tables.sin);
  (fused_out.to(torch::kFloat) * upstream).sum().backward();

  torch::Tensor x_reference = x.detach().to(torch::kFloat).requires_grad_(true);
  const RotaryTables broadcast{tables.cos.unsqueeze(1), tables.sin.unsqueeze(1)};
  const torch::Tensor reference_out = apply_rotary(x_reference, broadcast);
  (reference_out * upstream).sum().backward();

  EXPECT_EQ(fused_out.scalar_type(), torch::kBFloat16);
  EXPECT_LE(relative_error(fused_out.to(torch::kFloat), reference_out), 1e-2);
  EXPECT_LE(relative_error(x_fused.grad().to(torch::kFloat), x_reference.grad()), 1e-2);
}

TEST(FusedKernels, CrossEntropyMatchesAtenIncludingIgnoredAndInvalidTargets) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const int64_t rows = 96, vocab = 1000;
  const torch::Tensor logits = (seeded_normal({rows, vocab}, 3.0, 43).to(cuda_float())).to(torch::kBFloat16);
  ASSERT_TRUE(fused::cross_entropy_available(logits)) << "a CUDA build compiles the fused kernels";
  torch::Tensor targets =
      torch::randint(vocab, {rows}, at::detail::createCPUGenerator(45), torch::TensorOptions().dtype(torch::kLong))
          .to(torch::kCUDA);
  targets[5] = -100;  // PyTorch's ignore_index
  const torch::Tensor grad_rows = seeded_normal({rows}, 1.0, 44).to(cuda_float());

  torch::Tensor fused_logits = logits.detach().clone().requires_grad_(true);
  const torch::Tensor fused_nll = fused::cross_entropy(fused_logits, targets);
  (fused_nll * grad_rows).sum().backward();

  torch::Tensor reference_logits = logits.detach().clone().requires_grad_(true);
  const torch::Tensor reference_nll = torch::nn::functional::cross_entropy(
      reference_logits.to(torch::kFloat), targets,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  (reference_nll * grad_rows).sum().backward();

  EXPECT_EQ(fused_nll.scalar_type(), torch::kFloat);
  EXPECT_LE(relative_error(fused_nll, reference_nll), 1e-5);
  EXPECT_EQ(fused_nll[5].item<float>(), 0.0f) << "an ignored row costs nothing";
  EXPECT_TRUE(fused_logits.grad()[5].eq(0).all().item<bool>()) << "and gets no gradient";
  EXPECT_LE(relative_error(fused_logits.grad().to(torch::kFloat), reference_logits.grad().to(torch::kFloat)), 1e-2);

  targets[7] = vocab;  // outside the vocabulary: not silently a number
  const torch::Tensor invalid = fused::cross_entropy(logits, targets);
  EXPECT_TRUE(std::isnan(invalid[7].item<float>()));
  EXPECT_TRUE(torch::isfinite(invalid.narrow(0, 0, 7)).all().item<bool>());
}

TEST(FusedKernels, SwitchedOffNothingIsAvailable) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Tensor logits = torch::zeros({4, 16}, cuda_float().dtype(torch::kBFloat16));
  ASSERT_TRUE(fused::cross_entropy_available(logits));
  fused::set_enabled(false);
  EXPECT_FALSE(fused::cross_entropy_available(logits));
  EXPECT_FALSE(fused::rotary_available(logits.view({1, 4, 1, 16})));
  fused::set_enabled(true);
}

}  // namespace
}  // namespace grove::model
