// A distribution's fingerprint: xxh3 over everything that decides its shards: the split parameters and the cleaned
// documents in canonical order, each length-prefixed so document boundaries count. Equal fingerprints mean equal
// document stores, which is what makes re-ingesting unchanged content a no-op.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/hashing.h"

namespace grove::data {

class FingerprintBuilder {
 public:
  FingerprintBuilder(double holdout_fraction, uint64_t split_seed);
  void add(std::string_view document);
  uint64_t value() const { return stream_.digest(); }
  std::string hex() const { return hash_hex(value()); }

 private:
  Xxh3Stream stream_;
};

}  // namespace grove::data
