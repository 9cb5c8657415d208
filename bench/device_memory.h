// Peak device memory for the benchmarks: the CUDA caching allocator's high-water mark of allocated bytes (what
// torch.cuda.max_memory_allocated() reports for the Python peer), or nothing on builds without CUDA.
// One of device_memory_cuda.cpp / device_memory_none.cpp is compiled, chosen by bench/CMakeLists.txt.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>

namespace grove::bench {

// Starts a new high-water mark on `device` (no-op off CUDA).
void reset_peak_memory(const c10::Device& device);
// Bytes allocated at the high-water mark since the last reset; -1 where unknown (CPU, or no CUDA in this build).
int64_t peak_memory_bytes(const c10::Device& device);

}  // namespace grove::bench
