// CUDA kernel of the fused rotary embedding (model/fused_rotary.h), with a plain C++ interface (no LibTorch).
//
// x holds rows = batch * length token rows; row r sits at x + r * row_stride (elements) and carries `heads` heads
// of head_dim bf16 values each, densely. Its position is r % length. cos and sin are fp32 [length, head_dim] (each
// half repeated, as rotary_tables() builds them). out is dense [rows, heads, head_dim]:
//   out = x * cos + rotate_half(x) * sin * sin_sign,   rotate_half(x) = [-x2, x1]
// sin_sign = -1 is the rotation's inverse, which is also its backward. head_dim must be a multiple of 16,
// row_stride a multiple of 8, and x 16-byte aligned.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

cudaError_t rotary(const void* x, int64_t row_stride, const float* cos, const float* sin, void* out, int64_t rows,
                   int64_t length, int64_t heads, int64_t head_dim, float sin_sign, cudaStream_t stream);

}  // namespace grove::model::kernels
