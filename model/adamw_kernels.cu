// See adamw_kernels.h. Each block takes chunks blockIdx.x, blockIdx.x + gridDim.x, ...; a chunk's tensor is found
// by binary search over the table's first_chunk column. Vectorised tensors move 4 values per load (16 bytes, 8 for a
// bf16 gradient), two vectors per thread per iteration so that eight independent loads are in flight.
#include "model/adamw_kernels.h"
#include "model/kernel_support.cuh"

namespace grove::model::kernels {
namespace {

struct Constants {
  float beta1, beta2, eps, divisor, step_size, bias2_sqrt, lr_weight_decay;
};

__device__ __forceinline__ void update(float& p, float g, float& m, float& v, const Constants& c) {
  g = g / c.divisor;
  p -= c.lr_weight_decay * p;
  m = c.beta1 * m + (1.0f - c.beta1) * g;
  v = c.beta2 * v + (1.0f - c.beta2) * g * g;
  const float denom = sqrtf(v) / c.bias2_sqrt + c.eps;
  p -= c.step_size * m / denom;
}

__device__ __forceinline__ void update4(float4& p, const float4& g, float4& m, float4& v, const Constants& c) {
  update(p.x, g.x, m.x, v.x, c);
  update(p.y, g.y, m.y, v.y, c);
  update(p.z, g.z, m.z, v.z, c);
  update(p.w, g.w, m.w, v.w, c);
}

// Gradient value i (or values 4i..4i+3) of t, in fp32: a bf16 value widens exactly (its bits are the upper half).
__device__ __forceinline__ float load_grad(const AdamwTensor& t, int64_t i) {
  if (t.grad_bf16) {
    const uint16_t bits = static_cast<const uint16_t*>(t.grad)[i];
    return __uint_as_float(static_cast<uint32_t>(bits) << 16);
  }
  return static_cast<const float*>(t.grad)[i];
}

__device__ __forceinline__ float4 load_grad4(const AdamwTensor& t, int64_t i) {
  if (t.grad_bf16) {
    const uint2 bits = static_cast<const uint2*>(t.grad)[i];
    return make_float4(__uint_as_float(bits.x << 16), __uint_as_float(bits.x & 0xffff0000u),
                       __uint_as_float(bits.y << 16), __uint_as_float(bits.y & 0xffff0000u));
  }
  return static_cast<const float4*>(t.grad)[i];
}

__device__ int find_tensor(const AdamwTensor* table, int n_tensors, int64_t chunk) {
  int lo = 0, hi = n_tensors - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table[mid].first_chunk <= chunk) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

__global__ void __launch_bounds__(kThreads) adamw_kernel(const AdamwTensor* __restrict__ table, int n_tensors,
                                                          int64_t total_chunks, float beta1, float beta2, float eps,
                                                          const float* __restrict__ grad_divisor) {
  const float divisor = grad_divisor == nullptr ? 1.0f : *grad_divisor;
  for (int64_t chunk = blockIdx.x; chunk < total_chunks; chunk += gridDim.x) {
    const AdamwTensor t = table[find_tensor(table, n_tensors, chunk)];
    const Constants c{beta1, beta2, eps, divisor, t.step_size, t.bias2_sqrt, t.lr_weight_decay};
    const int64_t begin = (chunk - t.first_chunk) * kAdamwChunk;
    const int64_t end = begin + kAdamwChunk < t.numel ? begin + kAdamwChunk : t.numel;
    if (begin == 0 && threadIdx.x == 0 && t.step != nullptr) *t.step = t.step_value;
    if (t.vectorised) {
      float4* __restrict__ p = reinterpret_cast<float4*>(t.param);
      float4* __restrict__ m = reinterpret_cast<float4*>(t.exp_avg);
      float4* __restrict__ v = reinterpret_cast<float4*>(t.exp_avg_sq);
      const int64_t first = begin / 4, last = end / 4;
      int64_t i = first + threadIdx.x;
      for (; i + kThreads < last; i += 2 * kThreads) {
        const int64_t j = i + kThreads;
        float4 p0 = p[i], p1 = p[j], m0 = m[i], m1 = m[j], v0 = v[i], v1 = v[j];
        const float4 g0 = load_grad4(t, i), g1 = load_grad4(t, j);
        update4(p0, g0, m0, v0, c);
        update4(p1, g1, m1, v1, c);
        p[i] = p0, p[j] = p1, m[i] = m0, m[j] = m1, v[i] = v0, v[j] = v1;
      }
      if (i < last) {
        float4 p0 = p[i], m0 = m[i], v0 = v[i];
        update4(p0, load_grad4(t, i), m0, v0, c);
        p[i] = p0, m[i] = m0, v[i] = v0;
      }
    } else {
      for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) {
        float p = t.param[i], m = t.exp_avg[i], v = t.exp_avg_sq[i];
        update(p, load_grad(t, i), m, v, c);
        t.param[i] = p, t.exp_avg[i] = m, t.exp_avg_sq[i] = v;
      }
    }
  }
}

}  // namespace

cudaError_t adamw_update(const AdamwTensor* table, int n_tensors, int64_t total_chunks, float beta1, float beta2,
                         float eps, const float* grad_divisor, cudaStream_t stream) {
  if (n_tensors == 0 || total_chunks == 0) return cudaSuccess;
  if (n_tensors < 0) return cudaErrorInvalidValue;
  // Exactly as many blocks as fit on the device at once: every block starts at once and walks the same share of
  // chunks. More would leave the last wave to run alone on a mostly idle device.
  int device = 0, sms = 0, per_sm = 0;
  cudaError_t status = cudaGetDevice(&device);
  if (status == cudaSuccess) status = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (status == cudaSuccess) status = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, adamw_kernel, kThreads, 0);
  if (status != cudaSuccess) return status;
  const int64_t resident = static_cast<int64_t>(sms) * (per_sm > 0 ? per_sm : 1);
  const auto blocks = static_cast<unsigned int>(total_chunks < resident ? total_chunks : resident);
  adamw_kernel<<<blocks, kThreads, 0, stream>>>(table, n_tensors, total_chunks, beta1, beta2, eps, grad_divisor);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
