// See rotary_kernels.h. One thread per 8 values of one head; its rotate-half partner is the 8 values half a head
// away. All arithmetic in fp32.
#include "model/kernel_support.cuh"
#include "model/rotary_kernels.h"

namespace grove::model::kernels {
namespace {


__global__ void rotary_kernel(const Bf16x8* __restrict__ x, int64_t row_stride_vectors, const float* __restrict__ cos,
                              const float* __restrict__ sin, Bf16x8* __restrict__ out, int64_t rows, int64_t length,
                              int64_t heads, int64_t head_vectors, float sin_sign) {
  const int64_t row_vectors = heads * head_vectors;
  const int64_t total = rows * row_vectors;
  const int64_t half = head_vectors / 2;
  for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()) {
    const int64_t row = i / row_vectors, within = i - row * row_vectors;
    const int64_t head = within / head_vectors, column = within - head * head_vectors;
    const bool first_half = column < half;
    const int64_t partner = first_half ? column + half : column - half;
    const Bf16x8* in_row = x + row * row_stride_vectors + head * head_vectors;
    float value[8], other[8];
    in_row[column].to_floats(value);
    in_row[partner].to_floats(other);
    const int64_t table = (row % length) * head_vectors * kPerVector + column * kPerVector;
    const float sign = first_half ? -sin_sign : sin_sign;
    float result[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) result[j] = value[j] * cos[table + j] + sign * other[j] * sin[table + j];
    out[i] = Bf16x8::from_floats(result);
  }
}

}  // namespace

cudaError_t rotary(const void* x, int64_t row_stride, const float* cos, const float* sin, void* out, int64_t rows,
                   int64_t length, int64_t heads, int64_t head_dim, float sin_sign, cudaStream_t stream) {
  if (rows == 0 || heads == 0) return cudaSuccess;
  if (head_dim % (2 * kPerVector) != 0 || row_stride % kPerVector != 0 || length <= 0) return cudaErrorInvalidValue;
  const int64_t head_vectors = head_dim / kPerVector;
  const int64_t work = rows * heads * head_vectors;
  rotary_kernel<<<blocks_for(work), kThreads, 0, stream>>>(
      static_cast<const Bf16x8*>(x), row_stride / kPerVector, cos, sin, static_cast<Bf16x8*>(out), rows, length, heads,
      head_vectors, sin_sign);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
