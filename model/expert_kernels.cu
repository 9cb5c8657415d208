// See expert_kernels.h. Each thread moves 8 bf16 values (16 bytes) per load; all arithmetic is fp32.
#include <algorithm>

#include "model/kernel_support.cuh"
#include "model/expert_kernels.h"

namespace grove::model::kernels {
namespace {

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + __expf(-x)); }

__global__ void swiglu_forward_kernel(const Bf16x8* __restrict__ h13, const float* __restrict__ gate,
                                      Bf16x8* __restrict__ u, int64_t rows, int64_t vectors) {
  const int64_t total = rows * vectors;
  for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()) {
    const int64_t row = i / vectors, col = i - row * vectors;
    const Bf16x8 a = h13[row * 2 * vectors + col];
    const Bf16x8 b = h13[row * 2 * vectors + vectors + col];
    const float g = gate[row];
    Bf16x8 out;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 h1 = __bfloat1622float2(a.pair[j]);
      const float2 h3 = __bfloat1622float2(b.pair[j]);
      out.pair[j] = __floats2bfloat162_rn(g * h1.x * sigmoid(h1.x) * h3.x, g * h1.y * sigmoid(h1.y) * h3.y);
    }
    u[i] = out;
  }
}

// One block per row: the row's dgate is a block-wide sum.
__global__ void swiglu_backward_kernel(const Bf16x8* __restrict__ du, const Bf16x8* __restrict__ h13,
                                       const float* __restrict__ gate, Bf16x8* __restrict__ dh13,
                                       float* __restrict__ dgate, int64_t vectors) {
  const int64_t row = blockIdx.x;
  const float g = gate[row];
  float partial = 0.0f;
  for (int64_t col = threadIdx.x; col < vectors; col += blockDim.x) {
    const Bf16x8 d = du[row * vectors + col];
    const Bf16x8 a = h13[row * 2 * vectors + col];
    const Bf16x8 b = h13[row * 2 * vectors + vectors + col];
    Bf16x8 d1, d3;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 dd = __bfloat1622float2(d.pair[j]);
      const float2 h1 = __bfloat1622float2(a.pair[j]);
      const float2 h3 = __bfloat1622float2(b.pair[j]);
      const float s_x = sigmoid(h1.x), s_y = sigmoid(h1.y);
      const float silu_x = h1.x * s_x, silu_y = h1.y * s_y;
      partial += dd.x * silu_x * h3.x + dd.y * silu_y * h3.y;
      const float dg_x = dd.x * g, dg_y = dd.y * g;
      d3.pair[j] = __floats2bfloat162_rn(dg_x * silu_x, dg_y * silu_y);
      d1.pair[j] = __floats2bfloat162_rn(dg_x * h3.x * s_x * (1.0f + h1.x * (1.0f - s_x)),
                                         dg_y * h3.y * s_y * (1.0f + h1.y * (1.0f - s_y)));
    }
    dh13[row * 2 * vectors + col] = d1;
    dh13[row * 2 * vectors + vectors + col] = d3;
  }
  if (dgate == nullptr) return;  // the same for every thread of the block
  for (int offset = 16; offset > 0; offset /= 2) partial += __shfl_down_sync(0xffffffffu, partial, offset);
  __shared__ float warp_sums[kThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = partial;
  __syncthreads();
  if (threadIdx.x == 0) {
    float sum = 0.0f;
    for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) sum += warp_sums[w];
    dgate[row] = sum;
  }
}

// Grid (chunks, experts): every block handles a strided share of one expert's rows * cols values, 8 at a time.
// Eight values stored as fp32 (Float8) or bf16 (Bf16x8).
__device__ __forceinline__ void store8(Float8* out, const float (&v)[8]) {
  *out = Float8{make_float4(v[0], v[1], v[2], v[3]), make_float4(v[4], v[5], v[6], v[7])};
}
__device__ __forceinline__ void store8(Bf16x8* out, const float (&v)[8]) { *out = Bf16x8::from_floats(v); }

__device__ __forceinline__ void load8(const Float8& in, float (&v)[8]) {
  const float values[8] = {in.low.x, in.low.y, in.low.z, in.low.w, in.high.x, in.high.y, in.high.z, in.high.w};
#pragma unroll
  for (int j = 0; j < 8; ++j) v[j] = values[j];
}
__device__ __forceinline__ void load8(const Bf16x8& in, float (&v)[8]) { in.to_floats(v); }

template <typename Out>
__global__ void widen_expert_gradients_kernel(const Bf16x8* __restrict__ grads, const int32_t* __restrict__ ends,
                                              Out* __restrict__ first, Out* __restrict__ second, int64_t rows,
                                              int64_t split, int64_t vectors_per_row) {
  const int64_t expert = blockIdx.y;
  const bool empty = ends[expert] == (expert == 0 ? 0 : ends[expert - 1]);
  const int64_t per_expert = rows * vectors_per_row;
  const int64_t first_per_expert = split * vectors_per_row;
  const int64_t second_per_expert = per_expert - first_per_expert;
  for (int64_t i = grid_first_index(); i < per_expert; i += grid_index_stride()) {
    float v[8] = {};
    if (!empty) grads[expert * per_expert + i].to_floats(v);
    Out* out = i < first_per_expert ? first + expert * first_per_expert + i
                                    : second + expert * second_per_expert + (i - first_per_expert);
    store8(out, v);
  }
}

// Grid (chunks, experts): the blocks of an expert that received rows return at once.
__global__ void zero_empty_experts_kernel(Bf16x8* __restrict__ grads, const int32_t* __restrict__ ends,
                                          int64_t vectors_per_expert) {
  const int64_t expert = blockIdx.y;
  if (ends[expert] != (expert == 0 ? 0 : ends[expert - 1])) return;
  const float zeros[8] = {};
  for (int64_t i = grid_first_index(); i < vectors_per_expert; i += grid_index_stride()) {
    grads[expert * vectors_per_expert + i] = Bf16x8::from_floats(zeros);
  }
}

// Each token's row is read once and written to its k sorted rows: a gather by sorted row would read it k times,
// and at k = 8 the source no longer stays in L2 between those reads, so the gather moves as many bytes in as out
// (docs/PERFORMANCE.md has the measurement). A block takes `per_pass` tokens at a time, its threads across their
// 8-value vectors (several tokens per pass for narrow rows, a loop over the columns for rows wider than the block):
// no division per element, and consecutive threads store consecutive 16-byte vectors of a row.
template <bool kSrcBf16>
__global__ void spread_rows_to_bf16_kernel(const void* __restrict__ src, const int64_t* __restrict__ inv,
                                           Bf16x8* __restrict__ out, int64_t tokens, int64_t k, int64_t vectors) {
  const bool wide = vectors >= blockDim.x;
  const int64_t per_pass = wide ? 1 : blockDim.x / vectors;
  const int64_t row_in_pass = wide ? 0 : threadIdx.x / vectors;
  if (row_in_pass >= per_pass) return;  // the threads past the last whole row of a pass
  const int64_t first_column = wide ? threadIdx.x : threadIdx.x - row_in_pass * vectors;
  const int64_t column_stride = wide ? blockDim.x : vectors;
  for (int64_t token = blockIdx.x * per_pass + row_in_pass; token < tokens; token += gridDim.x * per_pass) {
    for (int64_t column = first_column; column < vectors; column += column_stride) {
      const int64_t from = token * vectors + column;
      Bf16x8 value;
      if constexpr (kSrcBf16) {
        value = static_cast<const Bf16x8*>(src)[from];
      } else {
        float values[8];
        load8(static_cast<const Float8*>(src)[from], values);
        value = Bf16x8::from_floats(values);
      }
      for (int64_t j = 0; j < k; ++j) out[inv[token * k + j] * vectors + column] = value;
    }
  }
}

template <typename Out>
__global__ void combine_rows_kernel(const Bf16x8* __restrict__ src, const int64_t* __restrict__ index,
                                    Out* __restrict__ out, int64_t tokens, int64_t k, int64_t vectors) {
  const int64_t total = tokens * vectors;
  for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()) {
    const int64_t token = i / vectors, column = i - token * vectors;
    float sum[8] = {};
    for (int64_t j = 0; j < k; ++j) {
      float v[8];
      src[index[token * k + j] * vectors + column].to_floats(v);
#pragma unroll
      for (int c = 0; c < 8; ++c) sum[c] += v[c];
    }
    store8(out + i, sum);
  }
}

template <typename Src>
__global__ void cast_into_stack_kernel(const Src* __restrict__ src, Bf16x8* __restrict__ dst, int64_t experts,
                                       int64_t rows, int64_t vectors, int64_t first_expert, int64_t dst_rows,
                                       int64_t row_offset) {
  const int64_t per_expert = rows * vectors;
  const int64_t total = experts * per_expert;
  for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()) {
    const int64_t expert = i / per_expert, within = i - expert * per_expert;
    float values[8];
    load8(src[i], values);
    dst[((first_expert + expert) * dst_rows + row_offset) * vectors + within] = Bf16x8::from_floats(values);
  }
}

}  // namespace

cudaError_t swiglu_forward(const void* h13, const float* gate, void* u, int64_t rows, int64_t f, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const int64_t vectors = f / kPerVector;
  swiglu_forward_kernel<<<blocks_for(rows * vectors), kThreads, 0, stream>>>(
      static_cast<const Bf16x8*>(h13), gate, static_cast<Bf16x8*>(u), rows, vectors);
  return cudaGetLastError();
}

cudaError_t swiglu_backward(const void* du, const void* h13, const float* gate, void* dh13, float* dgate, int64_t rows,
                            int64_t f, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (rows > 0x7fffffff) return cudaErrorInvalidValue;
  const int64_t vectors = f / kPerVector;
  // Enough whole warps to cover a row once (f = 2048: 256 threads), at most kThreads.
  int threads = 32;
  while (threads < kThreads && threads < vectors) threads *= 2;
  swiglu_backward_kernel<<<static_cast<unsigned int>(rows), threads, 0, stream>>>(
      static_cast<const Bf16x8*>(du), static_cast<const Bf16x8*>(h13), gate, static_cast<Bf16x8*>(dh13), dgate,
      vectors);
  return cudaGetLastError();
}

cudaError_t widen_expert_gradients(const void* grads, const int32_t* ends, void* first, void* second, bool out_bf16,
                                   int64_t experts, int64_t rows, int64_t split, int64_t cols, cudaStream_t stream) {
  if (experts == 0 || rows == 0 || cols == 0) return cudaSuccess;
  if (experts > 65535 || split < 0 || split > rows || (split < rows && second == nullptr)) return cudaErrorInvalidValue;
  const int64_t vectors_per_row = cols / kPerVector;
  const dim3 grid(blocks_for(rows * vectors_per_row, 1024 / experts + 1), static_cast<unsigned int>(experts));
  const auto* in = static_cast<const Bf16x8*>(grads);
  if (out_bf16) {
    widen_expert_gradients_kernel<<<grid, kThreads, 0, stream>>>(in, ends, static_cast<Bf16x8*>(first),
                                                                 static_cast<Bf16x8*>(second), rows, split,
                                                                 vectors_per_row);
  } else {
    widen_expert_gradients_kernel<<<grid, kThreads, 0, stream>>>(in, ends, static_cast<Float8*>(first),
                                                                 static_cast<Float8*>(second), rows, split,
                                                                 vectors_per_row);
  }
  return cudaGetLastError();
}

cudaError_t zero_empty_experts(void* grads, const int32_t* ends, int64_t experts, int64_t per_expert,
                               cudaStream_t stream) {
  if (experts == 0 || per_expert == 0) return cudaSuccess;
  if (experts > 65535 || per_expert % kPerVector != 0) return cudaErrorInvalidValue;
  const int64_t vectors = per_expert / kPerVector;
  const dim3 grid(blocks_for(vectors, 1024 / experts + 1), static_cast<unsigned int>(experts));
  zero_empty_experts_kernel<<<grid, kThreads, 0, stream>>>(static_cast<Bf16x8*>(grads), ends, vectors);
  return cudaGetLastError();
}

cudaError_t spread_rows_to_bf16(const void* src, bool src_is_bf16, const int64_t* inv, void* out, int64_t tokens,
                                int64_t k, int64_t cols, cudaStream_t stream) {
  if (tokens == 0 || k == 0 || cols == 0) return cudaSuccess;
  if (cols % kPerVector != 0 || k < 0) return cudaErrorInvalidValue;
  const int64_t vectors = cols / kPerVector;
  const int64_t per_block = vectors >= kThreads ? 1 : kThreads / vectors;
  // About 32 blocks per SM of an H200 at most; the grid-stride loop covers the rest.
  const unsigned int blocks = static_cast<unsigned int>(std::min<int64_t>((tokens + per_block - 1) / per_block, 4096));
  if (src_is_bf16) {
    spread_rows_to_bf16_kernel<true><<<blocks, kThreads, 0, stream>>>(src, inv, static_cast<Bf16x8*>(out), tokens, k,
                                                                      vectors);
  } else {
    spread_rows_to_bf16_kernel<false><<<blocks, kThreads, 0, stream>>>(src, inv, static_cast<Bf16x8*>(out), tokens,
                                                                       k, vectors);
  }
  return cudaGetLastError();
}

cudaError_t combine_rows(const void* src, const int64_t* index, void* out, bool out_bf16, int64_t tokens, int64_t k,
                         int64_t cols, cudaStream_t stream) {
  if (tokens == 0 || cols == 0) return cudaSuccess;
  if (cols % kPerVector != 0 || k <= 0) return cudaErrorInvalidValue;
  const int64_t vectors = cols / kPerVector;
  const unsigned int blocks = blocks_for(tokens * vectors);
  const auto* in = static_cast<const Bf16x8*>(src);
  if (out_bf16) {
    combine_rows_kernel<<<blocks, kThreads, 0, stream>>>(in, index, static_cast<Bf16x8*>(out), tokens, k, vectors);
  } else {
    combine_rows_kernel<<<blocks, kThreads, 0, stream>>>(in, index, static_cast<Float8*>(out), tokens, k, vectors);
  }
  return cudaGetLastError();
}

cudaError_t cast_into_stack(const void* src, bool src_is_bf16, void* dst, int64_t experts, int64_t rows, int64_t cols,
                            int64_t first_expert, int64_t dst_rows, int64_t row_offset, cudaStream_t stream) {
  if (experts == 0 || rows == 0 || cols == 0) return cudaSuccess;
  if (cols % kPerVector != 0 || row_offset + rows > dst_rows) return cudaErrorInvalidValue;
  const int64_t vectors = cols / kPerVector;
  const unsigned int blocks = blocks_for(experts * rows * vectors);
  auto* out = static_cast<Bf16x8*>(dst);
  if (src_is_bf16) {
    cast_into_stack_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const Bf16x8*>(src), out, experts, rows,
                                                            vectors, first_expert, dst_rows, row_offset);
  } else {
    cast_into_stack_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const Float8*>(src), out, experts, rows,
                                                            vectors, first_expert, dst_rows, row_offset);
  }
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
