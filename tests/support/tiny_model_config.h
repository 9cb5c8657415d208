// The smallest model configuration worth testing: it runs in milliseconds on the CPU and keeps every width a multiple
// of 8, as the grouped GEMM wants. Header-only, like tensor_compare.h, so that suites outside tests/model (which need
// no SentencePiece helper) use the same one.
#pragma once

#include <cstdint>

#include "model/model_config.h"

namespace grove::testing {

// d_model 32, 4 query heads over 2 key/value heads of 8, experts of width 48, 4 experts top-2, 2 layers, vocab 96.
inline model::ModelConfig tiny_config(uint64_t seed = 7) {
  model::ModelConfig config;
  config.vocab_size = 96;
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.n_kv_heads = 2;
  config.head_dim = 8;
  config.d_expert = 48;
  config.n_experts = 4;
  config.top_k = 2;
  config.max_seq_len = 16;
  config.seed = seed;
  return config;
}

}  // namespace grove::testing
