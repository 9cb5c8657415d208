// model/cuda_graph.h for builds without CUDA: nothing can be captured.
#include <stdexcept>

#include "model/cuda_graph.h"

namespace grove::model {

struct CapturedWork::Graph {};

bool CapturedWork::available(const torch::Device&) { return false; }

CapturedWork::CapturedWork(const std::function<void()>&, const torch::Device& device, int) {
  throw std::runtime_error("CapturedWork: cannot capture work on " + device.str() +
                           ": CUDA graphs need a LibTorch build with CUDA");
}

CapturedWork::~CapturedWork() = default;

bool CapturedWork::keep_alive_with_capture(const torch::Tensor&) { return false; }

bool CapturedWork::capturing(const torch::Device&) { return false; }

void CapturedWork::replay() { throw std::logic_error("CapturedWork::replay: nothing was captured"); }

}  // namespace grove::model
