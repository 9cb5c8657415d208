// Seeds derived per consumer from a run's seed (MLX's key-split habit): each phase's sampler, growth noise,
// routing pre-pass and router noise get their own stream, and adding a consumer never shifts the others.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/hashing.h"

namespace grove::orch {

inline uint64_t derive_seed(uint64_t run_seed, int64_t phase_idx, std::string_view purpose) {
  Xxh3Stream stream(run_seed);
  stream.update(&phase_idx, sizeof(phase_idx));
  stream.update(purpose);
  return stream.digest();
}

}  // namespace grove::orch
