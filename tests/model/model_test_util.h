// Shared helpers of the model tests: a tiny config that runs in milliseconds, tensor comparisons, and a real
// SentencePiece model trained on a Debian-packaged corpus (fortunes) for the export tests.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "model/model_config.h"
#include "model/moe_layer.h"
#include "model/moe_transformer.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/tiny_model_config.h"

namespace grove::model::testing {

// d_model 32, 4 query heads over 2 key/value heads of 8, experts of width 48, 4 experts top-2, 2 layers, vocab 96
// (tests/support/tiny_model_config.h).
using grove::testing::tiny_config;

// A model built from `config` and grown once by `n_per_layer` randomly initialised experts (growth seed `seed`):
// two expert groups per layer.
std::shared_ptr<MoeTransformer> grown_random_model(const ModelConfig& config, int64_t n_per_layer, uint64_t seed);

// ||a - b|| / ||b|| in double precision (tests/support/tensor_compare.h).
using grove::testing::relative_error;

// Random token ids [batch, length] below `vocab`, from `seed`.
torch::Tensor random_tokens(int64_t batch, int64_t length, int64_t vocab, uint64_t seed);

// Trains a unigram SentencePiece model (byte fallback, `vocab_size` pieces) on /usr/share/games/fortunes/fortunes
// (the repository's documentation where that Debian package is missing, as on the GPU machine) into
// `dir`/tokenizer.model and returns its path.
// SentencePiece runs in the grove_test_spm helper process: it cannot share a process with LibTorch (spm_tool.cpp).
std::filesystem::path train_fortune_tokenizer(const std::filesystem::path& dir, int vocab_size);

// The SentencePiece library's view of a model, from grove_test_spm dump: "ids UNK BOS EOS PAD" then
// "ID<TAB>TYPE<TAB>PIECE" lines.
std::string dump_sentencepiece_model(const std::filesystem::path& model);

// What a decoder layer relies on when it runs `layer` on bf16 normed rows under bf16 autocast and adds the output to
// its fp32 residual stream (MoeOptions::output_dtype = fp32): forward + backward through `backend` on x_init's device
// (x_init bf16, upstream fp32 [N, d]), once with the output in x's dtype and once in fp32. The fp32 output keeps the
// fp32 sum of each token's k outputs (not all of it is representable in bf16); on the grouped path the bf16 output is
// that sum rounded once; x's gradient stays bf16 and agrees between the two. gtest expectations, named by `backend`.
void expect_fp32_output_keeps_the_fp32_sum(MoeLayerImpl& layer, const torch::Tensor& x_init,
                                           const torch::Tensor& upstream, ExpertBackend backend);

}  // namespace grove::model::testing
