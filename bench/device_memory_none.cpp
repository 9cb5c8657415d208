// device_memory.h for LibTorch builds without CUDA (Debian's 1.13): nothing to measure.
#include "bench/device_memory.h"

namespace grove::bench {

void reset_peak_memory(const c10::Device&) {}

int64_t peak_memory_bytes(const c10::Device&) { return -1; }

}  // namespace grove::bench
