#include "orchestrator/phase_time_account.h"

#include <chrono>

namespace grove::orch {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

PhaseTimeAccount::PhaseTimeAccount(TimeUse first, Clock clock)
    : clock_(clock ? std::move(clock) : Clock(steady_seconds)), current_(first), since_(clock_()) {}

void PhaseTimeAccount::charge() {
  const double now = clock_();
  const double seconds = now > since_ ? now - since_ : 0.0;  // a clock that steps back charges nothing
  since_ = now;
  switch (current_) {
    case TimeUse::kSetup: pending_.setup_s += seconds; break;
    case TimeUse::kTraining: pending_.training_s += seconds; break;
    case TimeUse::kCheckpoint: pending_.checkpoint_s += seconds; break;
    case TimeUse::kEvaluation: pending_.eval_s += seconds; break;
    case TimeUse::kOther: pending_.other_s += seconds; break;
  }
}

void PhaseTimeAccount::switch_to(TimeUse use) {
  charge();
  current_ = use;
}

registry::PhaseTimes PhaseTimeAccount::take() {
  charge();
  registry::PhaseTimes taken = pending_;
  pending_ = {};
  return taken;
}

PhaseTimeAccount::Scope::Scope(PhaseTimeAccount* account, TimeUse use)
    : account_(account), previous_(account ? account->current() : use) {
  if (account_) account_->switch_to(use);
}

PhaseTimeAccount::Scope::~Scope() {
  if (account_) account_->switch_to(previous_);
}

}  // namespace grove::orch
