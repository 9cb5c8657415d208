// Learning rate per step within a phase: linear warmup to the peak, then cosine decay to min_ratio × peak.
// A pure function of the step, so resuming at step s gives exactly the rate an uninterrupted run would use.
#pragma once

#include <cstdint>

namespace grove::orch {

struct LrSchedule {
  double peak = 1e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double min_ratio = 0.1;

  // Rate for optimizer step `step` (0-based).
  double at(int64_t step) const;
};

}  // namespace grove::orch
