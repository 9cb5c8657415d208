// See rms_norm_kernels.h. One warp per row: lane l holds columns 4 (l + 32 i) .. 4 (l + 32 i) + 3 for
// i < width / 128, so a row is read from memory once per kernel, its reductions are warp shuffles, and every load is
// a 16-byte (fp32) or 8-byte (bf16) vector that the warp's lanes take side by side.
#include <cuda_bf16.h>

#include <type_traits>

#include "model/rms_norm_kernels.h"

namespace grove::model::kernels {
namespace {

constexpr unsigned int kFullMask = 0xffffffffu;
constexpr int kWarp = 32;
constexpr int kNormWarps = 8;
constexpr int kNormThreads = kNormWarps * kWarp;
constexpr int kColumnsPerGroup = 4 * kWarp;  // one float4 per lane
constexpr int kMaxForwardBlocks = 8192;
constexpr int kMaxBackwardBlocks = 256;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

__device__ __forceinline__ float4 load_float4(const float* p) { return *reinterpret_cast<const float4*>(p); }

__device__ __forceinline__ float4 load_bf16x4(const void* base, int64_t index) {
  const uint2 bits = *reinterpret_cast<const uint2*>(static_cast<const __nv_bfloat16*>(base) + index);
  const float2 low = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&bits.x));
  const float2 high = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&bits.y));
  return {low.x, low.y, high.x, high.y};
}

__device__ __forceinline__ void store_bf16x4(void* base, int64_t index, float4 v) {
  const __nv_bfloat162 low = __floats2bfloat162_rn(v.x, v.y), high = __floats2bfloat162_rn(v.z, v.w);
  uint2 bits;
  bits.x = *reinterpret_cast<const unsigned int*>(&low);
  bits.y = *reinterpret_cast<const unsigned int*>(&high);
  *reinterpret_cast<uint2*>(static_cast<__nv_bfloat16*>(base) + index) = bits;
}

__device__ __forceinline__ float4 load_either(const void* base, bool bf16, int64_t index) {
  return bf16 ? load_bf16x4(base, index) : load_float4(static_cast<const float*>(base) + index);
}

__device__ __forceinline__ void store_either(void* base, bool bf16, int64_t index, float4 v) {
  if (bf16) store_bf16x4(base, index, v);
  else *reinterpret_cast<float4*>(static_cast<float*>(base) + index) = v;
}

__device__ __forceinline__ float dot4(float4 a, float4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

__device__ __forceinline__ int lane_column(int group) {
  return (group * kWarp + static_cast<int>(threadIdx.x % kWarp)) * 4;
}

__device__ __forceinline__ int64_t first_row() {
  return static_cast<int64_t>(blockIdx.x) * kNormWarps + threadIdx.x / kWarp;
}
__device__ __forceinline__ int64_t row_stride() { return static_cast<int64_t>(gridDim.x) * kNormWarps; }

// kGroups: an upper bound on width / 128 (the register arrays' size); `groups` the real count.
template <int kGroups>
__global__ void __launch_bounds__(kNormThreads)
    add_rms_norm_forward_kernel(const float* __restrict__ residual, const void* __restrict__ delta,
                                NormDelta delta_kind, const float* __restrict__ weight, float eps, int64_t rows,
                                int width, float* __restrict__ sum, void* __restrict__ normed, bool normed_bf16,
                                float* __restrict__ rstd) {
  const int groups = width / kColumnsPerGroup;
  for (int64_t row = first_row(); row < rows; row += row_stride()) {
    const int64_t base = row * width;
    float4 h[kGroups];
    float squares = 0.0f;
#pragma unroll
    for (int i = 0; i < kGroups; ++i) {
      if (i >= groups) break;
      const int64_t at = base + lane_column(i);
      float4 v = load_float4(residual + at);
      if (delta_kind != NormDelta::kNone) {
        const float4 d = load_either(delta, delta_kind == NormDelta::kBf16, at);
        v = {v.x + d.x, v.y + d.y, v.z + d.z, v.w + d.w};
      }
      h[i] = v;
      squares += dot4(v, v);
    }
    const float r = rsqrtf(warp_sum(squares) / static_cast<float>(width) + eps);
    if (threadIdx.x % kWarp == 0) rstd[row] = r;
#pragma unroll
    for (int i = 0; i < kGroups; ++i) {
      if (i >= groups) break;
      const int column = lane_column(i);
      const float4 v = h[i], w = load_float4(weight + column);
      if (sum != nullptr) *reinterpret_cast<float4*>(sum + base + column) = v;
      store_either(normed, normed_bf16, base + column, {w.x * (v.x * r), w.y * (v.y * r), w.z * (v.z * r),
                                                        w.w * (v.w * r)});
    }
  }
}

template <int kGroups>
__global__ void __launch_bounds__(kNormThreads)
    add_rms_norm_backward_kernel(const float* __restrict__ h, const float* __restrict__ rstd,
                                 const float* __restrict__ weight, const void* __restrict__ dnormed, bool dnormed_bf16,
                                 const float* __restrict__ dsum, int64_t rows, int width, float* __restrict__ dh,
                                 void* __restrict__ delta_bf16, float* __restrict__ partial_dweight) {
  __shared__ float block_dweight[kMaxNormWidth];
  const int groups = width / kColumnsPerGroup;
  float4 dweight[kGroups];
#pragma unroll
  for (int i = 0; i < kGroups; ++i) dweight[i] = {0.0f, 0.0f, 0.0f, 0.0f};

  for (int64_t row = first_row(); row < rows; row += row_stride()) {
    const int64_t base = row * width;
    const float r = rstd[row];
    float4 xhat[kGroups], g[kGroups];
    float dot = 0.0f;
#pragma unroll
    for (int i = 0; i < kGroups; ++i) {
      if (i >= groups) break;
      const int column = lane_column(i);
      const float4 v = load_float4(h + base + column), w = load_float4(weight + column);
      const float4 dn = load_either(dnormed, dnormed_bf16, base + column);
      xhat[i] = {v.x * r, v.y * r, v.z * r, v.w * r};
      g[i] = {dn.x * w.x, dn.y * w.y, dn.z * w.z, dn.w * w.w};
      dot += dot4(g[i], xhat[i]);
      dweight[i].x += dn.x * xhat[i].x;
      dweight[i].y += dn.y * xhat[i].y;
      dweight[i].z += dn.z * xhat[i].z;
      dweight[i].w += dn.w * xhat[i].w;
    }
    const float mean_dot = warp_sum(dot) / static_cast<float>(width);
#pragma unroll
    for (int i = 0; i < kGroups; ++i) {
      if (i >= groups) break;
      const int64_t at = base + lane_column(i);
      float4 d = {r * (g[i].x - xhat[i].x * mean_dot), r * (g[i].y - xhat[i].y * mean_dot),
                  r * (g[i].z - xhat[i].z * mean_dot), r * (g[i].w - xhat[i].w * mean_dot)};
      if (dsum != nullptr) {
        const float4 s = load_float4(dsum + at);
        d = {d.x + s.x, d.y + s.y, d.z + s.z, d.w + s.w};
      }
      *reinterpret_cast<float4*>(dh + at) = d;
      if (delta_bf16 != nullptr) store_bf16x4(delta_bf16, at, d);
    }
  }

  if (partial_dweight == nullptr) return;  // a frozen weight: no partials (the same for every thread of the block)
  // The block's warps add their columns' sums in warp order (a fixed order), then the block writes its partial.
  const int warp = static_cast<int>(threadIdx.x / kWarp);
  for (int turn = 0; turn < kNormWarps; ++turn) {
    if (warp == turn) {
#pragma unroll
      for (int i = 0; i < kGroups; ++i) {
        if (i >= groups) break;
        float* out = block_dweight + lane_column(i);
        if (turn == 0) {
          out[0] = dweight[i].x, out[1] = dweight[i].y, out[2] = dweight[i].z, out[3] = dweight[i].w;
        } else {
          out[0] += dweight[i].x, out[1] += dweight[i].y, out[2] += dweight[i].z, out[3] += dweight[i].w;
        }
      }
    }
    __syncthreads();
  }
  for (int column = static_cast<int>(threadIdx.x); column < width; column += kNormThreads) {
    partial_dweight[static_cast<int64_t>(blockIdx.x) * width + column] = block_dweight[column];
  }
}

unsigned int forward_blocks(int64_t rows) {
  const int64_t blocks = (rows + kNormWarps - 1) / kNormWarps;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > kMaxForwardBlocks ? kMaxForwardBlocks : blocks));
}

// Calls launch(std::integral_constant<int, G>) with the smallest G in {1, 2, 4, 8, 16} that holds width / 128.
template <typename Launch>
cudaError_t for_width(int64_t width, Launch&& launch) {
  if (width <= 0 || width % kColumnsPerGroup != 0 || width > kMaxNormWidth) return cudaErrorInvalidValue;
  const int64_t groups = width / kColumnsPerGroup;
  if (groups <= 1) launch(std::integral_constant<int, 1>{});
  else if (groups <= 2) launch(std::integral_constant<int, 2>{});
  else if (groups <= 4) launch(std::integral_constant<int, 4>{});
  else if (groups <= 8) launch(std::integral_constant<int, 8>{});
  else launch(std::integral_constant<int, 16>{});
  return cudaGetLastError();
}

static_assert(kMaxNormWidth == 16 * kColumnsPerGroup, "for_width's largest case covers kMaxNormWidth");

}  // namespace

cudaError_t add_rms_norm_forward(const float* residual, const void* delta, NormDelta delta_kind, const float* weight,
                                 float eps, int64_t rows, int64_t width, float* sum, void* normed, bool normed_bf16,
                                 float* rstd, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if ((delta_kind == NormDelta::kNone) != (delta == nullptr) || (delta == nullptr && sum != nullptr)) {
    return cudaErrorInvalidValue;
  }
  return for_width(width, [&](auto groups) {
    add_rms_norm_forward_kernel<decltype(groups)::value><<<forward_blocks(rows), kNormThreads, 0, stream>>>(
        residual, delta, delta_kind, weight, eps, rows, static_cast<int>(width), sum, normed, normed_bf16, rstd);
  });
}

int add_rms_norm_backward_blocks(int64_t rows) {
  const int64_t blocks = (rows + kNormWarps - 1) / kNormWarps;
  return static_cast<int>(blocks < 1 ? 1 : (blocks > kMaxBackwardBlocks ? kMaxBackwardBlocks : blocks));
}

cudaError_t add_rms_norm_backward(const float* h, const float* rstd, const float* weight, const void* dnormed,
                                  bool dnormed_bf16, const float* dsum, int64_t rows, int64_t width, float* dh,
                                  void* delta_bf16, float* partial_dweight, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  const auto blocks = static_cast<unsigned int>(add_rms_norm_backward_blocks(rows));
  return for_width(width, [&](auto groups) {
    add_rms_norm_backward_kernel<decltype(groups)::value><<<blocks, kNormThreads, 0, stream>>>(
        h, rstd, weight, dnormed, dnormed_bf16, dsum, rows, static_cast<int>(width), dh, delta_bf16,
        partial_dweight);
  });
}

}  // namespace grove::model::kernels
