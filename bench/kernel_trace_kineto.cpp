// kernel_trace.h for LibTorch builds with CUDA: Kineto with CPU operators and CUDA kernels (CUPTI).
#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>
#include <stdexcept>

#include "bench/kernel_trace.h"

namespace grove::bench {
namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

bool running = false;

const std::set<ActivityType>& activities() {
  static const std::set<ActivityType> both{ActivityType::CPU, ActivityType::CUDA};
  return both;
}

}  // namespace

bool kernel_trace_available() { return true; }

void start_kernel_trace() {
  if (running) throw std::runtime_error("start_kernel_trace: a trace is already being recorded");
  const ProfilerConfig config(ProfilerState::KINETO);
  profiler::prepareProfiler(config, activities());
  profiler::enableProfiler(config, activities());
  running = true;
}

void stop_kernel_trace(const std::string& path) {
  if (!running) throw std::runtime_error("stop_kernel_trace: no trace is being recorded");
  running = false;
  const auto result = profiler::disableProfiler();
  if (!result) throw std::runtime_error("stop_kernel_trace: the profiler returned no result");
  result->save(path);
}

}  // namespace grove::bench
