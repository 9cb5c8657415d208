#include "orchestrator/device_plan.h"

#include <fmt/format.h>

#include <thread>

#include "common/errors.h"
#include "model/torch_compat.h"

namespace grove::orch {

std::string DevicePlan::describe() const {
  const std::string where = device.is_cuda() ? device.str() : fmt::format("cpu ({} threads)", threads);
  return fmt::format("{}, {}", where, bf16_autocast ? "bf16 autocast" : "fp32");
}

DevicePlan resolve_device_plan(const std::string& device, const std::string& precision, int64_t threads) {
  DevicePlan plan;
  const bool cuda = compat::cuda_available();
  if (device == "cuda") {
    if (!cuda) throw ConfigError("training.device: 'cuda' was requested but no CUDA device is usable here");
    plan.device = torch::Device(torch::kCUDA, 0);
  } else if (device == "auto") {
    plan.device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  if (precision == "bf16") {
    if (!plan.device.is_cuda()) {
      throw ConfigError("training.precision: bf16 autocast is supported on CUDA only; use fp32 (or auto) on CPU");
    }
    plan.bf16_autocast = true;
  } else if (precision == "auto") {
    plan.bf16_autocast = plan.device.is_cuda();
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  plan.threads = threads > 0 ? static_cast<int>(threads) : static_cast<int>(cores);
  return plan;
}

void apply_device_plan(const DevicePlan& plan) {
  if (torch::get_num_threads() != plan.threads) torch::set_num_threads(plan.threads);
}

}  // namespace grove::orch
