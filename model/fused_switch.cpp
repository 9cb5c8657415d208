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

std::atomic<uint64_t> launched{0};

}  // namespace

uint64_t launches() { return launched.load(std::memory_order_relaxed); }

void count_launch() { launched.fetch_add(1, std::memory_order_relaxed); }

void set_enabled(bool enabled) { switch_state().store(enabled); }

bool enabled() { return switch_state().load(); }

}  // namespace grove::model::fused
