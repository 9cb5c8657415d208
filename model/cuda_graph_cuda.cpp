// model/cuda_graph.h for builds with CUDA, on at::cuda::CUDAGraph. Capture runs on a side stream (CUDA graphs
// cannot capture the default stream), ordered after the caller's stream before and before it after.
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <torch/version.h>

#include <stdexcept>
#include <vector>

#include "model/cuda_graph.h"

namespace grove::model {

struct CapturedWork::Graph {
  at::cuda::CUDAGraph graph;
  std::vector<torch::Tensor> kept_alive;  // storage the captured work uses without owning it
};

namespace {

// What the graph this thread is capturing keeps alive, if it is capturing (set while its work runs under capture).
thread_local std::vector<torch::Tensor>* g_kept_alive = nullptr;

struct CapturingScope {
  explicit CapturingScope(std::vector<torch::Tensor>& kept_alive) { g_kept_alive = &kept_alive; }
  ~CapturingScope() { g_kept_alive = nullptr; }
  CapturingScope(const CapturingScope&) = delete;
  CapturingScope& operator=(const CapturingScope&) = delete;
};

}  // namespace

bool CapturedWork::keep_alive_with_capture(const torch::Tensor& tensor) {
  if (g_kept_alive == nullptr) return false;
  g_kept_alive->push_back(tensor);
  return true;
}

bool CapturedWork::capturing(const torch::Device& device) {
  if (g_kept_alive != nullptr) return true;
  if (!device.is_cuda() || !torch::cuda::is_available()) return false;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  const c10::cuda::CUDAStream stream = c10::cuda::getCurrentCUDAStream(device.has_index() ? device.index() : -1);
  if (cudaStreamIsCapturing(stream.stream(), &status) != cudaSuccess) {
    (void)cudaGetLastError();
    return true;  // cannot tell: assume the worst
  }
  return status != cudaStreamCaptureStatusNone;
}

bool CapturedWork::available(const torch::Device& device) {
  return device.is_cuda() && torch::cuda::is_available() &&
         (device.has_index() ? device.index() : 0) < static_cast<int>(torch::cuda::device_count());
}

CapturedWork::CapturedWork(const std::function<void()>& work, const torch::Device& device, int warmup) {
  if (!available(device)) {
    throw std::runtime_error(fmt::format("CapturedWork: cannot capture work on {}: no such CUDA device", device.str()));
  }
  const c10::cuda::CUDAGuard device_guard(device);
  graph_ = std::make_unique<Graph>();
  const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream();
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  at::cuda::CUDAEvent caller_done;
  caller_done.record(caller);
  caller_done.block(side);
  {
    const c10::cuda::CUDAStreamGuard stream_guard(side);
    for (int i = 0; i < warmup; ++i) work();
    side.synchronize();
    // What the eager runs cached goes back to the device: the graph's private pool is allocated on top of it.
    c10::cuda::CUDACachingAllocator::emptyCache();
    // Thread-local capture mode: other threads' CUDA calls (the batch loader pinning host memory, say) go on as
    // usual instead of invalidating the capture; the autograd engine's device thread launches onto the captured
    // stream and is recorded as it should be.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    graph_->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
    graph_->graph.capture_begin();
#endif
    try {
      const CapturingScope scope(graph_->kept_alive);
      work();
    } catch (const std::exception& error) {
      try {
        graph_->graph.capture_end();  // leaves capture mode; the graph is invalid either way
      } catch (const std::exception&) {
      }
      (void)cudaGetLastError();  // the failed call's error must not surface at the caller's next launch
      throw std::runtime_error(fmt::format("CapturedWork: the work cannot be captured as a CUDA graph: {}", error.what()));
    }
    try {
      graph_->graph.capture_end();
    } catch (const std::exception& error) {
      (void)cudaGetLastError();
      throw std::runtime_error(fmt::format("CapturedWork: capture failed (does the work synchronise with the host?): {}",
                                           error.what()));
    }
  }
  at::cuda::CUDAEvent side_done;
  side_done.record(side);
  side_done.block(caller);
}

CapturedWork::~CapturedWork() = default;

void CapturedWork::replay() { graph_->graph.replay(); }

}  // namespace grove::model
