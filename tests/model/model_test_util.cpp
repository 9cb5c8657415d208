#include "tests/model/model_test_util.h"

#include <gtest/gtest.h>

#include "model/growth.h"
#include "model/seeded_init.h"
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
