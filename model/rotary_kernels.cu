// See rotary_kernels.h. One thread per 8 values of one head; a rotated head's rotate-half partner is the 8 values half
// a head away. All arithmetic in fp32.
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

__global__ void rotary_heads_kernel(VectorSpans spans, const float* __restrict__ cos, const float* __restrict__ sin,
                                    int64_t rows, int64_t length, int64_t head_vectors, float sin_sign) {
  const int64_t row_vectors = spans.first_head[spans.count] * head_vectors;
  const int64_t total = rows * row_vectors;
  const int64_t half = head_vectors / 2;
  for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()) {
    const int64_t row = i / row_vectors, within = i - row * row_vectors;
    const int64_t head = within / head_vectors, column = within - head * head_vectors;
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
    const int64_t table = (row % length) * head_vectors * kPerVector + column * kPerVector;
    const float sign = first_half ? -sin_sign : sin_sign;
    float result[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) result[j] = value[j] * cos[table + j] + sign * other[j] * sin[table + j];
    out_head[column] = Bf16x8::from_floats(result);
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
  const int64_t work = rows * vectors.first_head[span_count] * head_vectors;
  if (work == 0) return cudaSuccess;
  rotary_heads_kernel<<<blocks_for(work), kThreads, 0, stream>>>(vectors, cos, sin, rows, length, head_vectors,
                                                                  sin_sign);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
