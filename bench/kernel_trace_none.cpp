// kernel_trace.h for LibTorch builds without CUDA: there are no kernels to record.
#include <stdexcept>

#include "bench/kernel_trace.h"

namespace grove::bench {

bool kernel_trace_available() { return false; }

void start_kernel_trace() {
  throw std::runtime_error("kernel traces need a LibTorch build with CUDA (this build has none)");
}

void stop_kernel_trace(const std::string&) {
  throw std::runtime_error("kernel traces need a LibTorch build with CUDA (this build has none)");
}

}  // namespace grove::bench
