#include "data_streams/fingerprint.h"

#include <cmath>

#include "data_streams/little_endian.h"
#include "data_streams/split.h"

namespace grove::data {

FingerprintBuilder::FingerprintBuilder(double holdout_fraction, uint64_t split_seed) {
  std::string header = "grove-fingerprint-v1";
  append_le<uint64_t>(header, static_cast<uint64_t>(std::llround(holdout_fraction * kSplitBuckets)));
  append_le<uint64_t>(header, split_seed);
  stream_.update(header);
}

void FingerprintBuilder::add(std::string_view document) {
  std::string length;
  append_le<uint64_t>(length, document.size());
  stream_.update(length);
  stream_.update(document);
}

}  // namespace grove::data
