// The deterministic train/holdout split: a document is held out when xxh3(document, split_seed) mod 10^6 falls
// below holdout·10^6. It depends on the document's own bytes only, so adding documents never moves another one.
#pragma once

#include <cstdint>
#include <string_view>

namespace grove::data {

inline constexpr uint64_t kSplitBuckets = 1'000'000;

// The document's bucket in [0, 10^6).
uint64_t split_bucket(std::string_view document, uint64_t split_seed);
// Whether the document belongs to the holdout for this fraction and seed.
bool is_holdout(std::string_view document, double holdout_fraction, uint64_t split_seed);

}  // namespace grove::data
