// See fused_switch.h; shared by the CUDA and the CPU-only builds.
#include "model/fused_switch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
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

// Launch counts by name, keyed by the name's address: every caller passes a string literal (detail::check_launch),
// so counting a launch is an atomic increment after a pointer comparison, with no lock (an eager training step
// counts about a thousand). Two literals with the same text in two files take two slots; readers add them up by
// text. Names beyond the table's room share a locked map.
constexpr size_t kNameSlots = 256;

struct NameSlot {
  std::atomic<const char*> name{nullptr};
  std::atomic<uint64_t> count{0};
};

struct NamedLaunches {
  NameSlot slots[kNameSlots];
  std::mutex overflow_mutex;
  std::map<std::string, uint64_t, std::less<>> overflow;
};

NamedLaunches& named_launches() {
  static NamedLaunches named;
  return named;
}

}  // namespace

uint64_t launches() { return launched.load(std::memory_order_relaxed); }

uint64_t launches(std::string_view name_prefix) {
  NamedLaunches& named = named_launches();
  uint64_t total = 0;
  for (const NameSlot& slot : named.slots) {
    const char* name = slot.name.load(std::memory_order_acquire);
    if (name != nullptr && std::string_view(name).starts_with(name_prefix)) {
      total += slot.count.load(std::memory_order_relaxed);
    }
  }
  const std::lock_guard lock(named.overflow_mutex);
  for (auto it = named.overflow.lower_bound(name_prefix);
       it != named.overflow.end() && it->first.starts_with(name_prefix); ++it) {
    total += it->second;
  }
  return total;
}

void count_launch(const char* name) {
  launched.fetch_add(1, std::memory_order_relaxed);
  NamedLaunches& named = named_launches();
  size_t i = std::hash<const void*>{}(name) % kNameSlots;
  for (size_t probe = 0; probe < kNameSlots; ++probe, i = (i + 1) % kNameSlots) {
    NameSlot& slot = named.slots[i];
    const char* held = slot.name.load(std::memory_order_acquire);
    if (held == nullptr && slot.name.compare_exchange_strong(held, name, std::memory_order_acq_rel)) held = name;
    if (held == name) {
      slot.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  const std::lock_guard lock(named.overflow_mutex);
  ++named.overflow[name];
}

void set_enabled(bool enabled) { switch_state().store(enabled); }

bool enabled() { return switch_state().load(); }

}  // namespace grove::model::fused
