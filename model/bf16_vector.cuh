// Eight bf16 values moved as one 16-byte load or store, for Grove's CUDA kernels (nvcc only).
#pragma once

#include <cuda_bf16.h>

namespace grove::model::kernels {

constexpr int kPerVector = 8;

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
