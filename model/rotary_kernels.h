// CUDA kernel of the fused QKV heads with their rotary embedding (model/fused_rotary.h), with a plain C++ interface
// (no LibTorch).
//
// Rows = batch * length token rows; a row's position is r % length. A HeadSpan is `heads` heads of head_dim bf16
// values, dense within each row, at src + r * src_row_stride (elements), written to dst + r * dst_row_stride. A span
// with `rotate` set is written rotated, the others copied:
//   out = x * cos + rotate_half(x) * sin * sin_sign,   rotate_half(x) = [-x2, x1]
// with cos and sin fp32 [length, head_dim] (each half repeated, as rotary_tables() builds them). sin_sign = -1 is the
// rotation's inverse, which is also its backward.
// Forward: qkv's q, k and v spans into three tensors (q and k rotated); backward: their three gradients into the
// gradient of qkv (q's and k's rotated back) — each one pass over the bytes, where separate rotary, split and
// concatenation kernels took three. head_dim must be a multiple of 16, row strides multiples of 8, pointers 16-byte
// aligned.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

struct HeadSpan {
  const void* src = nullptr;
  int64_t src_row_stride = 0;
  void* dst = nullptr;
  int64_t dst_row_stride = 0;
  int64_t heads = 0;
  bool rotate = false;
};

constexpr int kMaxHeadSpans = 3;

cudaError_t rotary_heads(const HeadSpan* spans, int span_count, const float* cos, const float* sin, int64_t rows,
                         int64_t length, int64_t head_dim, float sin_sign, cudaStream_t stream);

}  // namespace grove::model::kernels
