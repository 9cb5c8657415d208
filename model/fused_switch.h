// One switch for Grove's fused CUDA kernels (the fused_*.h interfaces): on by default, off when GROVE_FUSED_KERNELS=0
// is in the environment at start-up. Off, every caller takes its ATen formulation: for measuring what the kernels
// buy (train_step_bench's e16-aten case) and for checking them against it in tests.
#pragma once

#include <cstdint>
#include <string_view>

namespace grove::model::fused {

void set_enabled(bool enabled);
bool enabled();

// Sets the switch for one scope and restores what it was, also when the scope is left by an exception.
class ScopedSwitch {
 public:
  explicit ScopedSwitch(bool on) : previous_(enabled()) { set_enabled(on); }
  ~ScopedSwitch() { set_enabled(previous_); }
  ScopedSwitch(const ScopedSwitch&) = delete;
  ScopedSwitch& operator=(const ScopedSwitch&) = delete;

 private:
  bool previous_;
};

// Fused kernels launched by this process so far: lets a test see that the fused path really ran, not its fallback.
// With a name: only the launches whose name (what the wrapper reports them as, e.g. "fused::add_rms_norm (forward)")
// starts with it.
// count_launch takes a string with static storage duration (a literal): it is kept by address.
uint64_t launches();
uint64_t launches(std::string_view name_prefix);
void count_launch(const char* name);

}  // namespace grove::model::fused
