// See cross_entropy_kernels.h. Forward: one block per row, an online (max, sum of exp) pass over the row in fp32,
// merged across the block. Backward: one thread per 8 logits.
#include <math_constants.h>

#include "model/kernel_support.cuh"
#include "model/cross_entropy_kernels.h"

namespace grove::model::kernels {
namespace {

constexpr int64_t kIgnoreIndex = -100;

struct MaxSum {
  float max;
  float sum;  // of exp(v - max)
};

// A side whose maximum is -inf holds nothing (its sum may be NaN: exp(-inf - -inf)), so the other side wins whole.
__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  if (b.max == -CUDART_INF_F) return a;
  if (a.max == -CUDART_INF_F) return b;
  const float m = fmaxf(a.max, b.max);
  return {m, a.sum * __expf(a.max - m) + b.sum * __expf(b.max - m)};
}

__global__ void cross_entropy_forward_kernel(const Bf16x8* __restrict__ logits, const int64_t* __restrict__ targets,
                                             float* __restrict__ nll, float* __restrict__ lse, int64_t vocab) {
  const int64_t row = blockIdx.x;
  const int64_t vectors = vocab / kPerVector;
  const Bf16x8* in = logits + row * vectors;
  MaxSum acc{-CUDART_INF_F, 0.0f};
  for (int64_t c = threadIdx.x; c < vectors; c += blockDim.x) {
    float v[8];
    in[c].to_floats(v);
    float m = v[0];
#pragma unroll
    for (int j = 1; j < 8; ++j) m = fmaxf(m, v[j]);
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; ++j) s += __expf(v[j] - m);
    acc = merge(acc, MaxSum{m, s});
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const MaxSum other{__shfl_down_sync(0xffffffffu, acc.max, offset), __shfl_down_sync(0xffffffffu, acc.sum, offset)};
    acc = merge(acc, other);
  }
  __shared__ MaxSum warps[kThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warps[warp] = acc;
  __syncthreads();
  if (threadIdx.x != 0) return;
  MaxSum total = warps[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) total = merge(total, warps[w]);
  const float row_lse = total.max + __logf(total.sum);
  lse[row] = row_lse;
  const int64_t target = targets[row];
  if (target == kIgnoreIndex) {
    nll[row] = 0.0f;
  } else if (target < 0 || target >= vocab) {
    nll[row] = CUDART_NAN_F;
  } else {
    const __nv_bfloat16* values = reinterpret_cast<const __nv_bfloat16*>(in);
    nll[row] = row_lse - __bfloat162float(values[target]);
  }
}

__global__ void cross_entropy_backward_kernel(const Bf16x8* __restrict__ logits, const int64_t* __restrict__ targets,
                                              const float* __restrict__ lse, const float* __restrict__ grad,
                                              Bf16x8* __restrict__ dlogits, int64_t rows, int64_t vectors) {
  const int64_t total = rows * vectors;
  for (int64_t i = grid_first_index(); i < total; i += grid_index_stride()) {
    const int64_t row = i / vectors, column = (i - row * vectors) * kPerVector;
    const int64_t target = targets[row];
    float out[8];
    if (target == kIgnoreIndex) {
#pragma unroll
      for (int j = 0; j < 8; ++j) out[j] = 0.0f;
    } else {
      const float g = grad[row], row_lse = lse[row];
      float v[8];
      logits[i].to_floats(v);
#pragma unroll
      for (int j = 0; j < 8; ++j) out[j] = g * (__expf(v[j] - row_lse) - (column + j == target ? 1.0f : 0.0f));
    }
    dlogits[i] = Bf16x8::from_floats(out);
  }
}

}  // namespace

cudaError_t cross_entropy_forward(const void* logits, const int64_t* targets, float* nll, float* lse, int64_t rows,
                                  int64_t vocab, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (vocab <= 0 || vocab % kPerVector != 0 || rows > 0x7fffffff) return cudaErrorInvalidValue;
  cross_entropy_forward_kernel<<<static_cast<unsigned int>(rows), kThreads, 0, stream>>>(
      static_cast<const Bf16x8*>(logits), targets, nll, lse, vocab);
  return cudaGetLastError();
}

cudaError_t cross_entropy_backward(const void* logits, const int64_t* targets, const float* lse, const float* grad,
                                   void* dlogits, int64_t rows, int64_t vocab, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (vocab <= 0 || vocab % kPerVector != 0) return cudaErrorInvalidValue;
  const int64_t vectors = vocab / kPerVector;
  cross_entropy_backward_kernel<<<blocks_for(rows * vectors), kThreads, 0, stream>>>(
      static_cast<const Bf16x8*>(logits), targets, lse, grad, static_cast<Bf16x8*>(dlogits), rows, vectors);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
