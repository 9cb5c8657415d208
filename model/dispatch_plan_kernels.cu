// See dispatch_plan_kernels.h. The assignments are cut into chunks of kChunk; the chunks' key histograms (kernel 1)
// give every (chunk, key) pair its first sorted position (kernel 2, one block: prefix sums over chunks per key, then
// over keys); one warp per chunk then walks its chunk in order, 32 assignments at a time, ranking equal keys within
// the warp by __match_any_sync (kernel 3). Chunks in order and assignments in order within a chunk: a stable sort.
#include "model/dispatch_plan_kernels.h"

namespace grove::model::kernels {
namespace {

constexpr int kChunk = 1024;
constexpr int kCountThreads = 256;
constexpr int kOffsetThreads = kMaxPlanExperts;

__device__ __forceinline__ int key_of(int64_t slot, const SlotKeyMap& map) {
  for (int g = 0; g < map.groups; ++g) {
    if (slot >= map.first_slot[g] && slot < map.first_slot[g] + map.size[g]) {
      return static_cast<int>(slot - map.first_slot[g] + map.first_key[g]);
    }
  }
  return static_cast<int>(slot);
}

// counts[chunk * experts + key]: assignments of the chunk with that key.
__global__ void __launch_bounds__(kCountThreads) count_keys_kernel(const int64_t* __restrict__ slots,
                                                                   int64_t assignments, SlotKeyMap map, int experts,
                                                                   int32_t* __restrict__ counts) {
  extern __shared__ int32_t histogram[];
  for (int e = threadIdx.x; e < experts; e += blockDim.x) histogram[e] = 0;
  __syncthreads();
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kChunk;
  const int64_t end = begin + kChunk < assignments ? begin + kChunk : assignments;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const int key = key_of(slots[i], map);
    if (key >= 0 && key < experts) atomicAdd(&histogram[key], 1);
  }
  __syncthreads();
  int32_t* chunk_counts = counts + static_cast<int64_t>(blockIdx.x) * experts;
  for (int e = threadIdx.x; e < experts; e += blockDim.x) chunk_counts[e] = histogram[e];
}

// One block, thread e for key e: counts become each (chunk, key)'s first sorted position; ends[e] the inclusive end.
__global__ void __launch_bounds__(kOffsetThreads) first_positions_kernel(int32_t* __restrict__ counts, int chunks,
                                                                         int experts, int32_t* __restrict__ ends) {
  __shared__ int32_t scan[kOffsetThreads];
  const int e = threadIdx.x;
  int32_t total = 0;
  if (e < experts) {
    for (int c = 0; c < chunks; ++c) {
      int32_t& slot = counts[static_cast<int64_t>(c) * experts + e];
      const int32_t n = slot;
      slot = total;
      total += n;
    }
  }
  scan[e] = total;
  __syncthreads();
  for (int offset = 1; offset < kOffsetThreads; offset *= 2) {  // inclusive prefix sum over keys
    const int32_t add = e >= offset ? scan[e - offset] : 0;
    __syncthreads();
    scan[e] += add;
    __syncthreads();
  }
  if (e < experts) {
    ends[e] = scan[e];
    const int32_t first = scan[e] - total;
    for (int c = 0; c < chunks; ++c) counts[static_cast<int64_t>(c) * experts + e] += first;
  }
}

// One warp per chunk: next[key] is the key's next free sorted position within this chunk's share.
__global__ void __launch_bounds__(32) place_kernel(const int64_t* __restrict__ slots, const float* __restrict__ gate,
                                                   int64_t assignments, int top_k, SlotKeyMap map, int experts,
                                                   const int32_t* __restrict__ first_positions,
                                                   int64_t* __restrict__ token, int64_t* __restrict__ inv,
                                                   float* __restrict__ gate_sorted) {
  extern __shared__ int32_t next[];
  const unsigned lane = threadIdx.x;
  for (int e = lane; e < experts; e += 32) next[e] = first_positions[static_cast<int64_t>(blockIdx.x) * experts + e];
  __syncwarp();
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kChunk;
  const int64_t end = begin + kChunk < assignments ? begin + kChunk : assignments;
  for (int64_t first = begin; first < end; first += 32) {
    const int64_t i = first + lane;
    int key = i < end ? key_of(slots[i], map) : -1;
    if (key >= experts) key = -1;
    const unsigned peers = __match_any_sync(0xffffffffu, key);  // lanes with the same key, this one included
    const int32_t position = key >= 0 ? next[key] + __popc(peers & ((1u << lane) - 1u)) : 0;
    __syncwarp();
    if (key >= 0 && lane == 31u - __clz(peers)) next[key] += __popc(peers);  // the group's last lane moves it on
    __syncwarp();
    if (key >= 0) {
      token[position] = i / top_k;
      inv[i] = position;
      gate_sorted[position] = gate[i];
    }
  }
}

int64_t chunks_for(int64_t assignments) { return (assignments + kChunk - 1) / kChunk; }

}  // namespace

int64_t dispatch_plan_scratch(int64_t assignments, int experts) { return chunks_for(assignments) * experts; }

cudaError_t dispatch_plan(const int64_t* slots, const float* gate, int64_t assignments, int top_k, int experts,
                          const SlotKeyMap& map, int32_t* scratch, int64_t* token, int64_t* inv, float* gate_sorted,
                          int32_t* ends, cudaStream_t stream) {
  if (experts < 1 || experts > kMaxPlanExperts || assignments < 1 || assignments >= (int64_t{1} << 31) ||
      top_k < 1 || map.groups < 0 || map.groups > kMaxPlanGroups) {
    return cudaErrorInvalidValue;
  }
  const auto chunks = static_cast<unsigned int>(chunks_for(assignments));
  const size_t shared = static_cast<size_t>(experts) * sizeof(int32_t);
  count_keys_kernel<<<chunks, kCountThreads, shared, stream>>>(slots, assignments, map, experts, scratch);
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) return status;
  first_positions_kernel<<<1, kOffsetThreads, 0, stream>>>(scratch, static_cast<int>(chunks), experts, ends);
  status = cudaGetLastError();
  if (status != cudaSuccess) return status;
  place_kernel<<<chunks, 32, shared, stream>>>(slots, gate, assignments, top_k, map, experts, scratch, token, inv,
                                               gate_sorted);
  return cudaGetLastError();
}

}  // namespace grove::model::kernels
