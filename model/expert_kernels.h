// CUDA kernels of the grouped expert path (model/expert_dispatch.cpp), with a plain C++ interface: no LibTorch in
// sight, so the .cu file compiles with nvcc alone. model/fused_experts.h is the LibTorch-facing wrapper.
// Besides SwiGLU and the gradient widening: the dispatch's spread (token rows to expert-sorted rows, cast to bf16),
// its combine (each token's k expert outputs summed in fp32) and the per-step bf16 stacking of the fp32 weights.
//
// Layouts (row-major, contiguous, bf16 stored as 16-bit words): h13 [rows, 2f] holds h1 = W1 a in columns [0, f)
// and h3 = W3 a in columns [f, 2f); u, du [rows, f]; gate, dgate [rows] fp32. f must be a multiple of 8 and every
// pointer 16-byte aligned (one 16-byte load per 8 values).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

// u = gate * silu(h1) * h3, in fp32 arithmetic with one rounding to bf16.
cudaError_t swiglu_forward(const void* h13, const float* gate, void* u, int64_t rows, int64_t f, cudaStream_t stream);

// The backward of swiglu_forward for the upstream gradient du (= dL/du):
//   dh1 = du * gate * h3 * silu'(h1),  dh3 = du * gate * silu(h1),  dgate = sum_j du * silu(h1) * h3 (fp32 sums).
// dgate may be null when the gate needs no gradient.
cudaError_t swiglu_backward(const void* du, const void* h13, const float* gate, void* dh13, float* dgate, int64_t rows,
                            int64_t f, cudaStream_t stream);

// Weight gradients of `experts` experts from one grouped GEMM, in bf16 [experts, rows, cols], split into the
// gradients of the parameters, fp32 (widened) or bf16 (out_bf16, for bf16 parameters): rows [0, split) of each
// expert go to first [experts, split, cols], rows [split, rows) to second [experts, rows - split, cols] (second may
// be null when split == rows). An expert that received no token (ends[e] == ends[e - 1], ends being the int32
// cumulative row ends of the GEMM) gets zeros: the GEMM leaves its block unspecified. cols must be a multiple of 8.
cudaError_t widen_expert_gradients(const void* grads, const int32_t* ends, void* first, void* second, bool out_bf16,
                                   int64_t experts, int64_t rows, int64_t split, int64_t cols, cudaStream_t stream);

// Zeroes the blocks of grads (bf16 [experts, per_expert]) of the experts that received no row (ends as above), in
// place: the weight gradients of bf16 parameters come straight from the grouped GEMM, which leaves those blocks
// unspecified. per_expert must be a multiple of 8.
cudaError_t zero_empty_experts(void* grads, const int32_t* ends, int64_t experts, int64_t per_expert,
                               cudaStream_t stream);

// out[inv[n * k + j], :] = bf16(src[n, :]) for n < tokens, j < k: each token's row copied to the k rows its
// assignments take in expert order (inv, a permutation of [0, tokens * k), from the dispatch plan). The same rows as
// gathering out[p] = src[token[p]], but every source row is read once. src is fp32 (src_is_bf16 false) or bf16,
// [tokens, cols] dense.
cudaError_t spread_rows_to_bf16(const void* src, bool src_is_bf16, const int64_t* inv, void* out, int64_t tokens,
                                int64_t k, int64_t cols, cudaStream_t stream);

// out[n, :] = sum_j src[index[n * k + j], :] summed in fp32, for n < tokens; src bf16 [*, cols], out [tokens, cols]
// fp32 (or bf16 when out_bf16: one rounding of the fp32 sum).
cudaError_t combine_rows(const void* src, const int64_t* index, void* out, bool out_bf16, int64_t tokens, int64_t k,
                         int64_t cols, cudaStream_t stream);

// The fp32 (or, src_is_bf16, bf16) weights of `experts` experts, src [experts, rows, cols], copied into a bf16
// stack: expert e's row r goes to dst row (first_expert + e) * dst_rows + row_offset + r (dst has dst_rows rows per
// expert, cols wide).
cudaError_t cast_into_stack(const void* src, bool src_is_bf16, void* dst, int64_t experts, int64_t rows, int64_t cols,
                            int64_t first_expert, int64_t dst_rows, int64_t row_offset, cudaStream_t stream);

}  // namespace grove::model::kernels
