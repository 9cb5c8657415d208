// FLOP counts the benchmarks report against (bench/README.md writes them out; bench/peers/hf_mixtral_bench.py counts
// the same way, so Grove's and the peer's TFLOP/s and MFU compare like with like).
#pragma once

#include <cstdint>

namespace grove::bench {

// The bf16 8192^3 matmul rate measured on the H200 (docs/PERFORMANCE.md): the MFU denominator.
inline constexpr double kMatmulCeilingTflops = 741.0;

struct StepShape {
  int64_t vocab, d_model, n_layers, n_heads, n_kv_heads, head_dim, d_expert, experts, top_k, seq_len;
};

// Matmul parameters on one token's path: q, k, v, o projections, the router row of every expert, top_k SwiGLU
// experts per layer, and the LM head (the embedding lookup does no arithmetic).
inline double matmul_parameters_per_token(const StepShape& s) {
  const double attention = static_cast<double>((2 * s.n_heads + 2 * s.n_kv_heads) * s.head_dim * s.d_model);
  const double router = static_cast<double>(s.experts * s.d_model);
  const double experts = static_cast<double>(s.top_k * 3 * s.d_model * s.d_expert);
  return static_cast<double>(s.n_layers) * (attention + router + experts) + static_cast<double>(s.vocab * s.d_model);
}

// Training FLOPs per token: 6 per matmul parameter (forward 2, backward 4) plus causal attention scores and
// values, 6 * L * T * d (forward 2 T d per layer with the causal half, backward twice that).
inline double training_flops_per_token(const StepShape& s) {
  return 6.0 * matmul_parameters_per_token(s) +
         6.0 * static_cast<double>(s.n_layers) * static_cast<double>(s.seq_len) * static_cast<double>(s.d_model);
}

// MoE block forward + backward, expert GEMMs only: 3 per assignment forward (2 M d f FLOPs each), twice that
// backward; M = tokens * top_k.
inline double moe_block_flops(int64_t tokens, int64_t top_k, int64_t d, int64_t f) {
  return 18.0 * static_cast<double>(tokens * top_k) * static_cast<double>(d) * static_cast<double>(f);
}

}  // namespace grove::bench
