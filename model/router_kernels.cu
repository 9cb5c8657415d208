// See router_kernels.h. One warp per token: lane l holds the token's experts l, l + 32, ... (at most 8) in
// registers, so the row is read from memory once per kernel and every reduction over it is a warp shuffle.
#include <cmath>

#include "model/router_kernels.h"

namespace grove::model::kernels {
namespace {

constexpr unsigned int kFullMask = 0xffffffffu;
constexpr int kWarp = 32;
constexpr int kPerLane = kMaxRouterExperts / kWarp;
constexpr int kRouterWarps = 8;
constexpr int kRouterThreads = kRouterWarps * kWarp;
constexpr int kMaxRouterBlocks = 512;

static_assert(kMaxRouterExperts % kWarp == 0 && kMaxRouterTopK <= kWarp, "one warp per token");

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

__device__ __forceinline__ unsigned long long warp_max(unsigned long long v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const unsigned long long other = __shfl_xor_sync(kFullMask, v, offset);
    v = other > v ? other : v;
  }
  return v;
}

// A selection value and its slot as one key: a larger value gives a larger key (the float's bits mapped to an
// order-preserving unsigned word), and for equal values the smaller slot does. Every key of a real slot is distinct
// and nonzero, so 0 stands for "none" and "the largest key below the last one chosen" is a well-defined next choice
// whatever the values are: the chosen slots are always real ones. Where this order differs from ATen's topk, which
// leaves it unspecified for equal values: +0 ranks above -0, and a NaN with its sign bit set ranks below -inf (one
// without, as arithmetic produces them, above +inf, like ATen's).
__device__ __forceinline__ unsigned long long selection_key(float value, int slot) {
  const unsigned int bits = __float_as_uint(value);
  const unsigned int ordered = (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
  return (static_cast<unsigned long long>(ordered) << 32) | (0xffffffffu - static_cast<unsigned int>(slot));
}

__device__ __forceinline__ float key_value(unsigned long long key) {
  const auto ordered = static_cast<unsigned int>(key >> 32);
  return __uint_as_float((ordered & 0x80000000u) != 0 ? (ordered & 0x7fffffffu) : ~ordered);
}

__device__ __forceinline__ int key_slot(unsigned long long key) {
  return static_cast<int>(0xffffffffu - static_cast<unsigned int>(key & 0xffffffffu));
}

__device__ __forceinline__ int64_t first_token() {
  return static_cast<int64_t>(blockIdx.x) * kRouterWarps + threadIdx.x / kWarp;
}
__device__ __forceinline__ int64_t token_stride() { return static_cast<int64_t>(gridDim.x) * kRouterWarps; }

__global__ void __launch_bounds__(kRouterThreads)
    route_forward_kernel(const float* __restrict__ logits, const float* __restrict__ selection, int64_t tokens,
                         int experts, int k, int64_t* __restrict__ expert_index, float* __restrict__ gate,
                         float* __restrict__ lse, float* __restrict__ partial_probability,
                         int32_t* __restrict__ partial_count, float* __restrict__ partial_z) {
  __shared__ float warp_probability[kRouterWarps][kMaxRouterExperts];
  __shared__ int32_t warp_count[kRouterWarps][kMaxRouterExperts];
  __shared__ float warp_z[kRouterWarps];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  float probability[kPerLane] = {};
  int32_t count[kPerLane] = {};
  float z = 0.0f;

  for (int64_t token = first_token(); token < tokens; token += token_stride()) {
    const float* row = logits + token * experts;
    const float* selection_row = selection + token * experts;
    float x[kPerLane];
    unsigned long long key[kPerLane];
    float row_max = -INFINITY;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + kWarp * i;
      x[i] = e < experts ? row[e] : -INFINITY;
      key[i] = e < experts ? selection_key(selection_row[e], e) : 0ull;
      row_max = fmaxf(row_max, x[i]);
    }
    row_max = warp_max(row_max);
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) sum += lane + kWarp * i < experts ? expf(x[i] - row_max) : 0.0f;
    const float row_lse = row_max + logf(warp_sum(sum));
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) probability[i] += lane + kWarp * i < experts ? expf(x[i] - row_lse) : 0.0f;

    // Top-k: pass t takes the largest key below pass t - 1's; lane t keeps it.
    unsigned long long previous = 0ull, mine = 0ull;
    for (int t = 0; t < k; ++t) {
      unsigned long long best = 0ull;
#pragma unroll
      for (int i = 0; i < kPerLane; ++i) best = (t == 0 || key[i] < previous) && key[i] > best ? key[i] : best;
      best = warp_max(best);
      if (lane == t) mine = best;
      const int slot = key_slot(best);
#pragma unroll
      for (int i = 0; i < kPerLane; ++i) count[i] += slot == lane + kWarp * i ? 1 : 0;
      previous = best;
    }
    // Gates: softmax over the k selected values (lane t holds the t-th).
    const float value = lane < k ? key_value(mine) : -INFINITY;
    const float top = warp_max(value);
    const float weight = lane < k ? expf(value - top) : 0.0f;
    const float total = warp_sum(weight);
    if (lane < k) {
      expert_index[token * k + lane] = key_slot(mine);
      gate[token * k + lane] = weight / total;
    }
    if (lane == 0) {
      lse[token] = row_lse;
      z += row_lse * row_lse;
    }
  }

  // The block's partials: warps summed in warp order.
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + kWarp * i;
    if (e < experts) {
      warp_probability[warp][e] = probability[i];
      warp_count[warp][e] = count[i];
    }
  }
  if (lane == 0) warp_z[warp] = z;
  __syncthreads();
  for (int e = threadIdx.x; e < experts; e += blockDim.x) {
    float p = 0.0f;
    int32_t c = 0;
    for (int w = 0; w < kRouterWarps; ++w) {
      p += warp_probability[w][e];
      c += warp_count[w][e];
    }
    partial_probability[static_cast<int64_t>(blockIdx.x) * experts + e] = p;
    partial_count[static_cast<int64_t>(blockIdx.x) * experts + e] = c;
  }
  if (threadIdx.x == 0) {
    float block_z = 0.0f;
    for (int w = 0; w < kRouterWarps; ++w) block_z += warp_z[w];
    partial_z[blockIdx.x] = block_z;
  }
}

// One block. The per-block partials are summed by kFinalizeThreads / experts threads per expert, each over a fixed
// stride of blocks, and their sums then in part order by the expert's first thread: one thread per expert walking
// all 512 partials one dependent load at a time took 22 us per layer. The two losses are tree sums over the block.
// Every order is fixed, so the result is deterministic.
constexpr int kFinalizeThreads = 1024;
static_assert(kFinalizeThreads >= kMaxRouterExperts, "at least one thread per expert");

__global__ void __launch_bounds__(kFinalizeThreads)
    route_finalize_kernel(const float* __restrict__ partial_probability, const int32_t* __restrict__ partial_count,
                          const float* __restrict__ partial_z, int blocks, int64_t tokens, int experts, int k,
                          int64_t* __restrict__ counts, float* __restrict__ fraction, float* __restrict__ load_balance,
                          float* __restrict__ z_loss) {
  __shared__ float probability_parts[kFinalizeThreads];
  __shared__ int64_t count_parts[kFinalizeThreads];
  __shared__ float balance_terms[kFinalizeThreads];
  __shared__ float z_terms[kFinalizeThreads];
  const int t = threadIdx.x;
  const int parts = kFinalizeThreads / experts;  // thread t sums part t / experts of expert t % experts
  const int e = t % experts, part = t / experts;
  float p = 0.0f;
  int64_t c = 0;
  if (part < parts) {
    for (int b = part; b < blocks; b += parts) {
      c += partial_count[static_cast<int64_t>(b) * experts + e];
      p += partial_probability[static_cast<int64_t>(b) * experts + e];
    }
  }
  probability_parts[t] = p;
  count_parts[t] = c;
  float z = 0.0f;
  for (int b = t; b < blocks; b += kFinalizeThreads) z += partial_z[b];
  z_terms[t] = z;
  __syncthreads();
  float balance = 0.0f;
  if (t < experts) {
    float probability = 0.0f;
    int64_t count = 0;
    for (int q = 0; q < parts; ++q) {
      probability += probability_parts[q * experts + t];
      count += count_parts[q * experts + t];
    }
    counts[t] = count;
    const float f = static_cast<float>(count) / static_cast<float>(tokens * k);
    fraction[t] = f;
    balance = f * (probability / static_cast<float>(tokens));
  }
  balance_terms[t] = balance;
  __syncthreads();
  for (int half = kFinalizeThreads / 2; half > 0; half /= 2) {
    if (t < half) {
      balance_terms[t] += balance_terms[t + half];
      z_terms[t] += z_terms[t + half];
    }
    __syncthreads();
  }
  if (t == 0) {
    *load_balance = balance_terms[0] * static_cast<float>(experts);
    *z_loss = z_terms[0] / static_cast<float>(tokens);
  }
}

// d/dx_e of the three outputs, p = softmax(x), for token n:
//   load balance  E * sum_e f_e * mean_n p_ne  ->  dlb * (E / N) * p_e * (f_e - sum_e' p_e' f_e')
//   z-loss        mean_n lse_n^2               ->  dz * (2 / N) * lse * p_e
//   gates         softmax of the selected      ->  at selected slot s_t: g_t * (dg_t - sum_j g_j dg_j)
// (the selection values are the logits plus a constant noise, so their gradient is the logits').
__global__ void __launch_bounds__(kRouterThreads)
    route_backward_kernel(const float* __restrict__ logits, const float* __restrict__ lse,
                          const int64_t* __restrict__ expert_index, const float* __restrict__ gate,
                          const float* __restrict__ dgate, const float* __restrict__ fraction,
                          const float* __restrict__ dload_balance, const float* __restrict__ dz, int64_t tokens,
                          int experts, int k, float* __restrict__ dlogits) {
  const int lane = threadIdx.x % kWarp;
  const float balance_scale =
      dload_balance != nullptr ? *dload_balance * static_cast<float>(experts) / static_cast<float>(tokens) : 0.0f;
  const float z_scale = dz != nullptr ? *dz * 2.0f / static_cast<float>(tokens) : 0.0f;
  float f[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) f[i] = lane + kWarp * i < experts ? fraction[lane + kWarp * i] : 0.0f;

  for (int64_t token = first_token(); token < tokens; token += token_stride()) {
    const float* row = logits + token * experts;
    const float row_lse = lse[token];
    float p[kPerLane];
    float expected_fraction = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + kWarp * i;
      p[i] = e < experts ? expf(row[e] - row_lse) : 0.0f;
      expected_fraction += p[i] * f[i];
    }
    expected_fraction = warp_sum(expected_fraction);
    float g[kPerLane];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) g[i] = p[i] * (balance_scale * (f[i] - expected_fraction) + z_scale * row_lse);
    if (dgate != nullptr) {
      const float gt = lane < k ? gate[token * k + lane] : 0.0f;
      const float dgt = lane < k ? dgate[token * k + lane] : 0.0f;
      const float term = gt * (dgt - warp_sum(gt * dgt));
      const int slot = lane < k ? static_cast<int>(expert_index[token * k + lane]) : -1;
      for (int t = 0; t < k; ++t) {
        const int slot_t = __shfl_sync(kFullMask, slot, t);
        const float term_t = __shfl_sync(kFullMask, term, t);
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) g[i] += slot_t == lane + kWarp * i ? term_t : 0.0f;
      }
    }
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + kWarp * i;
      if (e < experts) dlogits[token * experts + e] = g[i];
    }
  }
}

bool valid_shape(int64_t tokens, int experts, int k) {
  return tokens >= 1 && tokens < (int64_t{1} << 31) && experts >= 1 && experts <= kMaxRouterExperts && k >= 1 &&
         k <= experts && k <= kMaxRouterTopK;
}

}  // namespace

int route_forward_blocks(int64_t tokens) {
  const int64_t blocks = (tokens + kRouterWarps - 1) / kRouterWarps;
  return static_cast<int>(blocks < 1 ? 1 : (blocks > kMaxRouterBlocks ? kMaxRouterBlocks : blocks));
}

cudaError_t route_forward(const float* logits, const float* selection, int64_t tokens, int experts, int k,
                          int64_t* expert_index, float* gate, float* lse, float* partial_probability,
                          int32_t* partial_count, float* partial_z, cudaStream_t stream) {
  if (!valid_shape(tokens, experts, k)) return cudaErrorInvalidValue;
  route_forward_kernel<<<route_forward_blocks(tokens), kRouterThreads, 0, stream>>>(
      logits, selection, tokens, experts, k, expert_index, gate, lse, partial_probability, partial_count, partial_z);
  return cudaGetLastError();
}

cudaError_t route_finalize(const float* partial_probability, const int32_t* partial_count, const float* partial_z,
                           int blocks, int64_t tokens, int experts, int k, int64_t* counts, float* fraction,
                           float* load_balance, float* z_loss, cudaStream_t stream) {
  if (!valid_shape(tokens, experts, k) || blocks < 1) return cudaErrorInvalidValue;
  route_finalize_kernel<<<1, kFinalizeThreads, 0, stream>>>(partial_probability, partial_count, partial_z, blocks,
                                                             tokens, experts, k, counts, fraction, load_balance,
                                                             z_loss);
  return cudaGetLastError();
}

cudaError_t route_backward(const float* logits, const float* lse, const int64_t* expert_index, const float* gate,
                           const float* dgate, const float* fraction, const float* dload_balance, const float* dz,
                           int64_t tokens, int experts, int k, float* dlogits, cudaStream_t stream) {
  if (!valid_shape(tokens, experts, k)) return cudaErrorInvalidValue;
  route_backward_kernel<<<route_forward_blocks(tokens), kRouterThreads, 0, stream>>>(
      logits, lse, expert_index, gate, dgate, fraction, dload_balance, dz, tokens, experts, k, dlogits);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
