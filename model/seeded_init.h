// Deterministic parameter initialisation without the global RNG: every tensor draws from its own CPU generator,
// seeded from (model seed, parameter name), so adding a parameter, growing a layer or changing construction order
// never shifts the values of the others, and CPU and CUDA models built from one config start identical.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>
#include <string_view>

#include "common/hashing.h"

namespace grove::model {

// The seed of one consumer (a parameter, a growth step) split off a parent seed by name.
inline uint64_t derive_seed(uint64_t seed, std::string_view name) { return xxh3_64(name, seed); }

inline at::Generator cpu_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Standard normal values of `shape` times `std`, drawn on the CPU in fp32 from `seed`.
inline torch::Tensor seeded_normal(at::IntArrayRef shape, double std, uint64_t seed) {
  return torch::randn(shape, cpu_generator(seed), torch::TensorOptions().dtype(torch::kFloat)) * std;
}

// Overwrites `tensor` (any device, any floating dtype) with seeded_normal values, outside autograd.
inline void fill_normal_(const torch::Tensor& tensor, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  tensor.copy_(seeded_normal(tensor.sizes(), std, seed));
}

}  // namespace grove::model
