// Runs fn(i) for i in [0, n) on a few threads pulling indices from a shared counter. Results written by index stay
// in a deterministic order whatever the scheduling; the first exception thrown by any fn is rethrown after all
// threads stop.
#pragma once

#include <cstddef>
#include <functional>

namespace grove::data {

// `threads` 0 means std::thread::hardware_concurrency(); 1 runs inline on the caller's thread.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn);

// The thread count `threads` resolves to (0: all cores, at least 1).
unsigned resolve_threads(unsigned threads);

}  // namespace grove::data
