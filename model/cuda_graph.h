// One stretch of GPU work recorded once as a CUDA graph and replayed with a single launch. For work whose shapes and
// addresses do not change between calls (a MoE block's forward + backward in bench/moe_block_bench) it removes the
// host's per-kernel launch time, which otherwise leaves the GPU idle between short kernels (docs/PERFORMANCE.md).
//
// What the work must respect: no synchronisation with the host (no .item(), no copies to the CPU, no host-side
// branching on device values); inputs read from tensors that outlive the graph (their contents may change between
// replays, their storage may not); outputs left in tensors made during capture and kept (they live in the graph's
// private memory pool and every replay rewrites them). Gradients: let the work reset .grad to undefined before its
// backward (zero_grad), so the captured backward allocates them in the pool; every replay then overwrites them, and
// they must not be reset or replaced between replays.
// CUDA builds compile cuda_graph_cuda.cpp (at::cuda::CUDAGraph); others cuda_graph_none.cpp, where nothing can be
// captured.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

namespace grove::model {

class CapturedWork {
 public:
  // Whether this build and device can capture (a CUDA device with a CUDA build of LibTorch).
  static bool available(const torch::Device& device);

  // Runs `work` `warmup` times on a side stream (lazy initialisation, workspaces, the allocator's cache settle),
  // then once more under capture. Throws std::runtime_error naming the cause when the device cannot capture or the
  // work breaks capture (a host synchronisation, for one); the stream is then out of capture mode again.
  CapturedWork(const std::function<void()>& work, const torch::Device& device, int warmup = 2);
  ~CapturedWork();
  CapturedWork(const CapturedWork&) = delete;
  CapturedWork& operator=(const CapturedWork&) = delete;

  // Launches the recorded work on the current stream of its device.
  void replay();

  // For work that writes into or reads from storage it does not own across replays (model/expert_stack_cache.h):
  // while this thread is inside a CapturedWork's capture, keeps `tensor` alive as long as that graph and returns
  // true; returns false when no CapturedWork is capturing on this thread.
  static bool keep_alive_with_capture(const torch::Tensor& tensor);
  // Whether this thread's current stream on `device` (a CUDA device) is being captured, by a CapturedWork or
  // anything else.
  static bool capturing(const torch::Device& device);

 private:
  struct Graph;
  std::unique_ptr<Graph> graph_;
};

}  // namespace grove::model
