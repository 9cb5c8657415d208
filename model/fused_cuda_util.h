// What the CUDA wrappers of the fused kernels (fused_*_cuda.cpp) share: operand checks, launch-error reporting and
// the current stream. Only compiled where LibTorch has CUDA.
#pragma once

#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>

#include "model/fused_switch.h"

namespace grove::model::fused::detail {

inline bool aligned16(const torch::Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0; }

// A CUDA tensor of `dtype` whose innermost dimension is dense and a multiple of 8 wide, with 16-byte aligned
// storage, and the switch on: what the kernels' 8-value loads need. Contiguity beyond that is each caller's check.
inline bool vectorisable(const torch::Tensor& t, torch::ScalarType dtype) {
  return enabled() && t.defined() && t.is_cuda() && t.scalar_type() == dtype && t.dim() >= 1 && t.stride(-1) == 1 &&
         t.size(-1) % 8 == 0 && aligned16(t);
}

inline bool bf16_vectorisable(const torch::Tensor& t) { return vectorisable(t, torch::kBFloat16); }

// An incoming gradient as the kernels read it: dense and 16-byte aligned (a dense view at an odd offset is copied),
// in its own dtype.
inline torch::Tensor dense_aligned(const torch::Tensor& grad) {
  torch::Tensor dense = grad.contiguous();
  return aligned16(dense) ? dense : dense.clone();
}

inline void check_launch(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(fmt::format("{}: CUDA kernel launch failed: {}", what, cudaGetErrorString(status)));
  }
  count_launch(what);
}

inline cudaStream_t current_stream(const torch::Tensor& t) {
  return c10::cuda::getCurrentCUDAStream(t.device().index()).stream();
}

}  // namespace grove::model::fused::detail
