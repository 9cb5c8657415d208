// A residual add and the RMSNorm that reads its result, as one CUDA kernel each way (model/fused_rms_norm.h wraps
// them). A decoder layer's residual stream is fp32 [rows, width]; every RMSNorm in it reads the sum of the stream
// and the previous block's output. ATen needs an add, the norm and, where a bf16 GEMM reads the norm, a cast
// forward; backward the norm's input gradient, its weight gradient (a second pass over the same rows), the sum of
// that with the residual path's gradient, and casts. Here: one pass forward (read the stream and the block's output,
// write their sum and the normalised rows, already in the GEMM's dtype) and one backward (read the sum, the normed
// rows' gradient and the residual path's, write the input gradient, in bf16 too where the block's output was bf16,
// and per-block partial sums of the weight gradient).
// Deterministic: rows map to warps by a fixed rule, and the partials are summed by the caller in a fixed order.
// Plain C++ interface, no LibTorch: the .cu file compiles with nvcc alone.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

// Each lane of a row's warp holds width / 128 groups of four values in registers: width must be a multiple of 128
// and at most this.
constexpr int kMaxNormWidth = 2048;

enum class NormDelta { kNone, kFloat, kBf16 };

// For row r < rows (all pointers dense row-major, 16-byte aligned; width a multiple of 128, at most kMaxNormWidth):
//   h = residual[r] + delta[r] (delta fp32 or bf16 as delta_kind says; h = residual[r] when kNone),
//   sum[r] = h (skipped when sum is null, as it must be with kNone),
//   rstd[r] = 1 / sqrt(mean(h^2) + eps),
//   normed[r] = weight * (h * rstd[r]), fp32 or, normed_bf16, rounded once to bf16.
cudaError_t add_rms_norm_forward(const float* residual, const void* delta, NormDelta delta_kind, const float* weight,
                                 float eps, int64_t rows, int64_t width, float* sum, void* normed, bool normed_bf16,
                                 float* rstd, cudaStream_t stream);

// Blocks of add_rms_norm_backward for `rows` rows: the leading dimension of its weight-gradient partials.
int add_rms_norm_backward_blocks(int64_t rows);

// The backward of add_rms_norm_forward, given h (its sum, or the residual when there was no delta) and rstd:
//   dh[r] = dsum[r] + rstd * (g - xhat * mean(g * xhat)) with xhat = h * rstd, g = dnormed[r] * weight
//   (dsum null: no residual-path gradient), which is both residual's and delta's gradient; delta_bf16, when not
//   null, receives it rounded to bf16 (a bf16 delta's gradient);
//   partial_dweight[b] = the sum over block b's rows of dnormed * xhat, [blocks, width] with
//   blocks = add_rms_norm_backward_blocks(rows); the weight's gradient is their sum over b (partial_dweight null:
//   none are written, for a frozen weight).
// dnormed is fp32 or (dnormed_bf16) bf16. Same layout requirements as the forward.
cudaError_t add_rms_norm_backward(const float* h, const float* rstd, const float* weight, const void* dnormed,
                                  bool dnormed_bf16, const float* dsum, int64_t rows, int64_t width, float* dh,
                                  void* delta_bf16, float* partial_dweight, cudaStream_t stream);

}  // namespace grove::model::kernels
