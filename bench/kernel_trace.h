// A Chrome trace of one stretch of a benchmark: every ATen operator and every CUDA kernel it launched, recorded by
// Kineto (LibTorch's profiler), for bench/trace_summary.py to break a training step down by phase, operator and
// kernel. One of kernel_trace_kineto.cpp / kernel_trace_none.cpp is compiled, chosen by bench/CMakeLists.txt: only
// LibTorch builds with CUDA record kernels.
#pragma once

#include <string>

namespace grove::bench {

// True when this build can record CUDA kernels.
bool kernel_trace_available();
// Starts recording. Throws std::runtime_error when a trace is already running or the build cannot record.
void start_kernel_trace();
// Stops recording and writes the Chrome trace (JSON) to `path`. Throws std::runtime_error on failure.
void stop_kernel_trace(const std::string& path);

}  // namespace grove::bench
