// Splits a phase's wall time by what the training thread was doing: every moment is charged to exactly one use
// (the current one), so the uses add up to the wall time. The phase runner switches between setup, training and
// other; checkpoint saves and evaluations charge themselves through a Scope. The registry keeps the totals
// (registry/phase_times.h); the clock is injectable so tests decide every interval.
#pragma once

#include <functional>

#include "registry/phase_times.h"

namespace grove::orch {

enum class TimeUse { kSetup, kTraining, kCheckpoint, kEvaluation, kOther };

class PhaseTimeAccount {
 public:
  using Clock = std::function<double()>;  // seconds on a monotonic clock

  explicit PhaseTimeAccount(TimeUse first = TimeUse::kSetup, Clock clock = {});

  // Charges the time since the last switch to the current use, then makes `use` current.
  void switch_to(TimeUse use);
  TimeUse current() const { return current_; }

  // Makes a use current for as long as it lives, then the one before it (nests: an evaluation inside setup).
  class Scope {
   public:
    Scope(PhaseTimeAccount* account, TimeUse use);  // a null account: does nothing
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PhaseTimeAccount* account_;
    TimeUse previous_;
  };

  // Everything charged since the last take (up to now), and starts counting afresh; train_tokens stays 0 (the
  // caller knows them).
  registry::PhaseTimes take();

 private:
  void charge();

  Clock clock_;
  TimeUse current_;
  double since_;
  registry::PhaseTimes pending_;
};

}  // namespace grove::orch
