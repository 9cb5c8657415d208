#include "data_streams/mixture_sampler.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/errors.h"

namespace grove::data {
namespace {

// Keeps the per-component and the choice streams apart from each other and from plain window samplers.
constexpr uint64_t kChoiceSalt = 0x6D69787475726531ull;

}  // namespace

MixtureSampler::MixtureSampler(const std::vector<MixtureComponent>& components, int64_t width, uint64_t seed)
    : width_(width), seed_(seed) {
  if (components.empty()) throw DataError("mixture sampler: expected at least one distribution");
  double total = 0;
  for (const auto& component : components) {
    if (!(component.weight >= 0)) {
      throw DataError(fmt::format("mixture sampler: weight {} of {} must be non-negative", component.weight,
                                  component.shard->index_path().string()));
    }
    total += component.weight;
  }
  if (!(total > 0)) throw DataError("mixture sampler: the weights sum to zero");
  double running = 0;
  for (size_t c = 0; c < components.size(); ++c) {
    samplers_.emplace_back(components[c].shard, width, counter_hash(seed, c, kChoiceSalt + 1));
    running += components[c].weight / total;
    cumulative_.push_back(running);
  }
  cumulative_.back() = 1.0;
}

double MixtureSampler::share(size_t component) const {
  return cumulative_[component] - (component == 0 ? 0.0 : cumulative_[component - 1]);
}

size_t MixtureSampler::component_of(uint64_t step, int64_t row) const {
  const double u = counter_unit(counter_hash(seed_ ^ kChoiceSalt, step, static_cast<uint64_t>(row)));
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min(static_cast<size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

TokenBatch MixtureSampler::batch(uint64_t step, int64_t rows) const {
  TokenBatch batch = make_token_batch(rows, width_);
  for (int64_t r = 0; r < rows; ++r) {
    samplers_[component_of(step, r)].fill_window(step, r, batch.tokens.data() + r * width_,
                                                 batch.target_mask.data() + r * (width_ - 1));
  }
  return batch;
}

}  // namespace grove::data
