// Replay: training windows drawn from several distributions' train shards with weights. Each row of step i picks
// its distribution from (seed, i, row) against the normalised weights, then a window from that distribution's own
// WindowSampler; like the window sampler it is a pure function of the step, so the step is the whole cursor.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "data_streams/window_sampler.h"

namespace grove::data {

struct MixtureComponent {
  std::shared_ptr<const ShardReader> shard;
  double weight = 1.0;  // relative; normalised over all components
};

class MixtureSampler {
 public:
  // Throws DataError for an empty mixture, a negative weight, or all-zero weights.
  MixtureSampler(const std::vector<MixtureComponent>& components, int64_t width, uint64_t seed);

  // The component a row of a step draws from.
  size_t component_of(uint64_t step, int64_t row) const;
  TokenBatch batch(uint64_t step, int64_t rows) const;
  size_t size() const { return samplers_.size(); }
  double share(size_t component) const;  // normalised weight

 private:
  std::vector<WindowSampler> samplers_;
  std::vector<double> cumulative_;  // normalised, last = 1
  int64_t width_;
  uint64_t seed_;
};

}  // namespace grove::data
