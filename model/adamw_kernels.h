// Grove's multi-tensor AdamW update as one CUDA kernel launch over every trainable fp32 parameter, with a plain C++
// interface (no LibTorch: nvcc compiles adamw_kernels.cu alone). model/fused_adamw.h is the LibTorch-facing wrapper.
//
// Why not ATen's _fused_adamw_: it launches a series of small grids (a few hundred blocks per launch, one launch per
// batch of tensor chunks), so a few billion parameters take hundreds of launches with a tail each, and it reached
// about 3 TB/s on the H200 (docs/PERFORMANCE.md). Here one persistent grid walks a table of fixed-size chunks of all
// tensors, with 16-byte loads: the update is 28 bytes of traffic per parameter and nothing else.
//
// The arithmetic is torch.optim.AdamW's (decoupled weight decay, bias corrections), in fp32:
//   g = grad / divisor (divisor: the clipping factor, 1 when absent)
//   p -= lr_weight_decay * p                (lr * weight_decay; 0 for tensors without decay)
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
//   p -= step_size * m / (sqrt(v) / bias2_sqrt + eps)     (step_size = lr / (1 - beta1^t), bias2_sqrt = sqrt(1 - beta2^t))
// The per-tensor constants come from the host, which knows every tensor's step count t.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grove::model::kernels {

// One parameter's update: its fp32 parameter and moments and its gradient in fp32 or bf16 (dense, numel values each)
// and its constants for this step. Laid out identically by nvcc and the host compiler (uploaded as bytes).
struct AdamwTensor {
  float* param;
  const void* grad;     // fp32, or bf16 when grad_bf16 (as the expert GEMMs leave it: model/expert_dispatch.h)
  float* exp_avg;
  float* exp_avg_sq;
  float* step;          // the tensor's device step count, set to step_value by the update (may be null)
  int64_t numel;
  int64_t first_chunk;  // index of this tensor's first chunk among all tensors' chunks (ascending in table order)
  float step_size;
  float bias2_sqrt;
  float lr_weight_decay;
  float step_value;
  int32_t vectorised;   // all four pointers 16-byte aligned and numel a multiple of 4
  int32_t grad_bf16;    // the gradient holds bf16 values (widened exactly to fp32 as they are read)
};

// Elements per chunk (a multiple of 4): the unit of work of one block iteration.
constexpr int64_t kAdamwChunk = 65536;

// Chunks a tensor of `numel` values occupies.
inline int64_t adamw_chunks(int64_t numel) { return (numel + kAdamwChunk - 1) / kAdamwChunk; }

// Updates every tensor of `table` (device memory, n_tensors entries, first_chunk ascending from 0), total_chunks
// chunks in all, on the current device with as many blocks as can be resident at once. grad_divisor is a device
// fp32 scalar or null.
cudaError_t adamw_update(const AdamwTensor* table, int n_tensors, int64_t total_chunks, float beta1, float beta2,
                         float eps, const float* grad_divisor, cudaStream_t stream);

}  // namespace grove::model::kernels
