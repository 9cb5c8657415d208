#include "data_streams/split.h"

#include <cmath>

#include "common/hashing.h"

namespace grove::data {

uint64_t split_bucket(std::string_view document, uint64_t split_seed) {
  return xxh3_64(document, split_seed) % kSplitBuckets;
}

bool is_holdout(std::string_view document, double holdout_fraction, uint64_t split_seed) {
  const auto threshold = static_cast<uint64_t>(std::llround(holdout_fraction * static_cast<double>(kSplitBuckets)));
  return split_bucket(document, split_seed) < threshold;
}

}  // namespace grove::data
