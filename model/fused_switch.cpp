// See fused_switch.h; shared by the CUDA and the CPU-only builds.
#include "model/fused_switch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace grove::model::fused {
namespace {

std::atomic<bool>& switch_state() {
  static std::atomic<bool> state([] {
    const char* value = std::getenv("GROVE_FUSED_KERNELS");
    return value == nullptr || std::strcmp(value, "0") != 0;
  }());
  return state;
}

}  // namespace

void set_enabled(bool enabled) { switch_state().store(enabled); }

bool enabled() { return switch_state().load(); }

}  // namespace grove::model::fused
