#include "tests/model/model_test_util.h"

#include <gtest/gtest.h>

#include "model/growth.h"
#include "model/seeded_init.h"
#include "model/torch_compat.h"
#include "tests/support/process.h"

namespace grove::model::testing {

std::shared_ptr<MoeTransformer> grown_random_model(const ModelConfig& config, int64_t n_per_layer, uint64_t seed) {
  auto model = std::make_shared<MoeTransformer>(config);
  GrowthOptions options;
  options.n_per_layer = n_per_layer;
  options.init = GrowthInit::kRandom;
  options.seed = seed;
  grow(*model, options);
  return model;
}

void expect_fp32_output_keeps_the_fp32_sum(MoeLayerImpl& layer, const torch::Tensor& x_init,
                                           const torch::Tensor& upstream, ExpertBackend backend) {
  const std::string what = std::string(expert_backend_name(backend)) + " on " + x_init.device().str();
  auto pass = [&](compat::Optional<torch::ScalarType> output_dtype) {
    compat::AutocastGuard autocast(x_init.device().type(), torch::kBFloat16);
    MoeOptions options;
    options.backend = backend;
    options.output_dtype = output_dtype;
    const torch::Tensor x = x_init.clone().requires_grad_(true);
    const torch::Tensor y = layer.forward(x, options).y;
    (y.to(torch::kFloat) * upstream).sum().backward();
    return std::pair{y.detach(), x.grad()};
  };
  const auto [y_bf16, dx_bf16_out] = pass(compat::kNullopt);
  const auto [y_fp32, dx] = pass(torch::kFloat);
  EXPECT_EQ(y_bf16.scalar_type(), torch::kBFloat16) << what;
  ASSERT_EQ(y_fp32.scalar_type(), torch::kFloat) << what;
  EXPECT_FALSE(torch::equal(y_fp32, y_fp32.to(torch::kBFloat16).to(torch::kFloat))) << what << ": not rounded to bf16";
  if (backend == ExpertBackend::kGrouped) {
    EXPECT_TRUE(torch::equal(y_fp32.to(torch::kBFloat16), y_bf16)) << what << ": the same fp32 sum, rounded once";
  } else {
    // The loop adds each token's k outputs in fp32 too, but on CUDA index_add_ adds them in no fixed order, so the
    // two passes' sums may differ in their last fp32 bits (MoeLayer.LoopPathSumsEachTokensOutputsInFp32... checks
    // the rounding exactly on the CPU).
    EXPECT_LE(relative_error(y_fp32, y_bf16.to(torch::kFloat)), 1e-2) << what;
  }
  ASSERT_TRUE(dx.defined() && dx_bf16_out.defined()) << what;
  EXPECT_EQ(dx.scalar_type(), torch::kBFloat16) << what;
  EXPECT_GT(dx.abs().max().item<float>(), 0.0f) << what << ": a gradient to compare";
  EXPECT_LE(relative_error(dx.to(torch::kFloat), dx_bf16_out.to(torch::kFloat)), 1e-2) << what;
}

torch::Tensor random_tokens(int64_t batch, int64_t length, int64_t vocab, uint64_t seed) {
  return torch::randint(vocab, {batch, length}, cpu_generator(seed), torch::TensorOptions().dtype(torch::kLong));
}

std::filesystem::path train_fortune_tokenizer(const std::filesystem::path& dir, int vocab_size) {
  std::string corpus = "/usr/share/games/fortunes/fortunes";
  if (!std::filesystem::exists(corpus)) {
    // The GPU machine has no Debian corpora: the repository's own documentation is real text too.
    const std::string root = grove::testing::source_dir();
    corpus = root + "/README.md," + root + "/CONTRIBUTING.md," + root + "/docs/MODEL.md";
  }
  const std::filesystem::path prefix = dir / "tokenizer";
  const auto result = grove::testing::run_process(GROVE_TEST_SPM_PATH,
                                                  {"train", corpus, prefix.string(), std::to_string(vocab_size)});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return prefix.string() + ".model";
}

std::string dump_sentencepiece_model(const std::filesystem::path& model) {
  const auto result = grove::testing::run_process(GROVE_TEST_SPM_PATH, {"dump", model.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

}  // namespace grove::model::testing
