// See rotary_kernels.h. One thread per 8 values of one head of a row; a rotated head's rotate-half partner is the 8
// values half a head away. All arithmetic in fp32.
#include "model/kernel_support.cuh"
#include "model/rotary_kernels.h"

namespace grove::model::kernels {
namespace {

// The spans in vectors of 8 values, by value into the kernel's parameter space.
struct VectorSpans {
  const Bf16x8* src[kMaxHeadSpans];
  int64_t src_row_stride[kMaxHeadSpans];
  Bf16x8* dst[kMaxHeadSpans];
  int64_t dst_row_stride[kMaxHeadSpans];
  int64_t first_head[kMaxHeadSpans + 1];  // span s holds heads [first_head[s], first_head[s + 1]) of a row
  bool rotate[kMaxHeadSpans];
  int count;
};

// One block walks whole token rows (grid-stride over rows), one thread per vector of the row: 32-bit index arithmetic
// within a row and the row's table position computed once. (A flat 64-bit index with three divisions per vector ran
// about as fast, 1.51 against 1.45 ms per e16 step: the divisions were not what limits it; docs/PERFORMANCE.md.)
__global__ void rotary_heads_kernel(VectorSpans spans, const float* __restrict__ cos, const float* __restrict__ sin,
                                    int64_t rows, int64_t length, int head_vectors, float sin_sign) {
  const int row_vectors = static_cast<int>(spans.first_head[spans.count]) * head_vectors;
  const int half = head_vectors / 2;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t table_row = (row % length) * head_vectors * kPerVector;
    for (int v = static_cast<int>(threadIdx.x); v < row_vectors; v += static_cast<int>(blockDim.x)) {
      const int head = v / head_vectors, column = v - head * head_vectors;
      int s = 0;
      while (s + 1 < spans.count && head >= spans.first_head[s + 1]) ++s;
      const int64_t offset = (head - spans.first_head[s]) * head_vectors;
      const Bf16x8* in_head = spans.src[s] + row * spans.src_row_stride[s] + offset;
      Bf16x8* out_head = spans.dst[s] + row * spans.dst_row_stride[s] + offset;
      if (!spans.rotate[s]) {
        out_head[column] = in_head[column];
        continue;
      }
      const bool first_half = column < half;
      float value[8], other[8];
      in_head[column].to_floats(value);
      in_head[first_half ? column + half : column - half].to_floats(other);
      const float* c = cos + table_row + column * kPerVector;
      const float* n = sin + table_row + column * kPerVector;
      const float sign = first_half ? -sin_sign : sin_sign;
      float result[8];
#pragma unroll
      for (int j = 0; j < 8; ++j) result[j] = value[j] * c[j] + sign * other[j] * n[j];
      out_head[column] = Bf16x8::from_floats(result);
    }
  }
}

}  // namespace

cudaError_t rotary_heads(const HeadSpan* spans, int span_count, const float* cos, const float* sin, int64_t rows,
                         int64_t length, int64_t head_dim, float sin_sign, cudaStream_t stream) {
  if (span_count < 1 || span_count > kMaxHeadSpans || head_dim % (2 * kPerVector) != 0 || length <= 0) {
    return cudaErrorInvalidValue;
  }
  VectorSpans vectors{};
  vectors.count = span_count;
  vectors.first_head[0] = 0;
  for (int s = 0; s < span_count; ++s) {
    const HeadSpan& span = spans[s];
    if (span.src_row_stride % kPerVector != 0 || span.dst_row_stride % kPerVector != 0 || span.heads < 0) {
      return cudaErrorInvalidValue;
    }
    vectors.src[s] = static_cast<const Bf16x8*>(span.src);
    vectors.src_row_stride[s] = span.src_row_stride / kPerVector;
    vectors.dst[s] = static_cast<Bf16x8*>(span.dst);
    vectors.dst_row_stride[s] = span.dst_row_stride / kPerVector;
    vectors.rotate[s] = span.rotate;
    vectors.first_head[s + 1] = vectors.first_head[s] + span.heads;
  }
  const int64_t head_vectors = head_dim / kPerVector;
  const int64_t row_vectors = vectors.first_head[span_count] * head_vectors;
  if (rows == 0 || row_vectors == 0) return cudaSuccess;
  if (row_vectors > (int64_t{1} << 30)) return cudaErrorInvalidValue;  // a row's vectors are counted in 32 bits
  // One vector per thread and row: the row's vectors rounded up to whole warps, at most a block's 1024 threads.
  const int64_t threads = row_vectors >= 1024 ? 1024 : (row_vectors + 31) / 32 * 32;
  const unsigned int blocks = static_cast<unsigned int>(rows < 65536 ? rows : 65536);
  rotary_heads_kernel<<<blocks, static_cast<unsigned int>(threads), 0, stream>>>(
      vectors, cos, sin, rows, length, static_cast<int>(head_vectors), sin_sign);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
