// What Grove's CUDA kernels share (nvcc only): eight bf16 or fp32 values moved per load or store, the block size,
// and the grid-stride loop every elementwise kernel runs (one thread per vector, the grid capped, each thread
// walking on by the whole grid's width).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

namespace grove::model::kernels {

constexpr int kPerVector = 8;
constexpr int kThreads = 256;

// Blocks of kThreads for `work` items, at least 1 and at most `cap` (the rest is covered by the grid-stride loop).
inline unsigned int blocks_for(int64_t work, int64_t cap = 65536) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

// for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()): every i < total exactly once.
__device__ __forceinline__ int64_t grid_first_index() {
  return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_index_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Eight fp32 values as two 16-byte loads or stores.
struct alignas(16) Float8 {
  float4 low, high;
};

struct alignas(16) Bf16x8 {
  __nv_bfloat162 pair[4];

  __device__ __forceinline__ void to_floats(float (&out)[8]) const {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 p = __bfloat1622float2(pair[j]);
      out[2 * j] = p.x;
      out[2 * j + 1] = p.y;
    }
  }

  __device__ __forceinline__ static Bf16x8 from_floats(const float (&in)[8]) {
    Bf16x8 v;
#pragma unroll
    for (int j = 0; j < 4; ++j) v.pair[j] = __floats2bfloat162_rn(in[2 * j], in[2 * j + 1]);
    return v;
  }
};

}  // namespace grove::model::kernels
