// See fused_switch.h; shared by the CUDA and the CPU-only builds.
#include "model/fused_switch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

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

struct NamedLaunches {
  std::mutex mutex;
  std::map<std::string, uint64_t, std::less<>> count;
};

NamedLaunches& named_launches() {
  static NamedLaunches named;
  return named;
}

}  // namespace

uint64_t launches() { return launched.load(std::memory_order_relaxed); }

uint64_t launches(std::string_view name_prefix) {
  NamedLaunches& named = named_launches();
  const std::lock_guard lock(named.mutex);
  uint64_t total = 0;
  for (auto it = named.count.lower_bound(name_prefix);
       it != named.count.end() && std::string_view(it->first).substr(0, name_prefix.size()) == name_prefix; ++it) {
    total += it->second;
  }
  return total;
}

void count_launch(std::string_view name) {
  launched.fetch_add(1, std::memory_order_relaxed);
  NamedLaunches& named = named_launches();
  const std::lock_guard lock(named.mutex);
  auto it = named.count.find(name);
  if (it == named.count.end()) it = named.count.emplace(std::string(name), 0).first;
  ++it->second;
}

void set_enabled(bool enabled) { switch_state().store(enabled); }

bool enabled() { return switch_state().load(); }

}  // namespace grove::model::fused
