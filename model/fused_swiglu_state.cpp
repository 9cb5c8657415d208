// The on/off switch of model/fused_swiglu.h, shared by the CUDA and the CPU-only builds.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "model/fused_swiglu.h"

namespace grove::model::fused {
namespace {

std::atomic<bool>& switch_state() {
  static std::atomic<bool> state([] {
    const char* value = std::getenv("GROVE_FUSED_EXPERT_KERNELS");
    return value == nullptr || std::strcmp(value, "0") != 0;
  }());
  return state;
}

}  // namespace

void set_enabled(bool enabled) { switch_state().store(enabled); }

bool enabled() { return switch_state().load(); }

}  // namespace grove::model::fused
