// CUDA kernels of the fused cross-entropy (model/fused_cross_entropy.h), with a plain C++ interface (no LibTorch).
// logits bf16 [rows, vocab] (dense, vocab a multiple of 8, 16-byte aligned), targets int64 [rows].
//   forward:  lse_r = log sum_j exp(logits_rj),  nll_r = lse_r - logits_r,target   (fp32; the softmax's
//             normaliser is kept for the backward). A target of -100 (PyTorch's ignore_index) gives 0; any other
//             target outside [0, vocab) gives NaN, which the trainer's finite-loss check reports.
//   backward: dlogits_rj = grad_r * (exp(logits_rj - lse_r) - [j == target_r]), in bf16; 0 for ignored rows.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

cudaError_t cross_entropy_forward(const void* logits, const int64_t* targets, float* nll, float* lse, int64_t rows,
                                  int64_t vocab, cudaStream_t stream);

cudaError_t cross_entropy_backward(const void* logits, const int64_t* targets, const float* lse, const float* grad,
                                   void* dlogits, int64_t rows, int64_t vocab, cudaStream_t stream);

}  // namespace grove::model::kernels
