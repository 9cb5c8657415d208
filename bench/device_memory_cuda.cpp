// device_memory.h for LibTorch builds with CUDA: the caching allocator's statistics.
#include <c10/cuda/CUDACachingAllocator.h>

#include "bench/device_memory.h"

namespace grove::bench {
namespace {

c10::DeviceIndex index_of(const c10::Device& device) { return device.has_index() ? device.index() : 0; }

}  // namespace

void reset_peak_memory(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(index_of(device));
}

int64_t peak_memory_bytes(const c10::Device& device) {
  if (!device.is_cuda()) return -1;
  // allocated_bytes[0] is the aggregate over pool kinds.
  return c10::cuda::CUDACachingAllocator::getDeviceStats(index_of(device)).allocated_bytes[0].peak;
}

}  // namespace grove::bench
