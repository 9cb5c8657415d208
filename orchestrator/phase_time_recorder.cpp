#include "orchestrator/phase_time_recorder.h"

#include <exception>

#include "common/log.h"
#include "registry/phase_times.h"

namespace grove::orch {

PhaseTimeRecorder::PhaseTimeRecorder(RunContext& ctx, int64_t phase_id, PhaseTimeAccount::Clock clock)
    : ctx_(ctx),
      phase_id_(phase_id),
      account_(TimeUse::kSetup, std::move(clock)),
      uncaught_at_start_(std::uncaught_exceptions()) {
  ctx_.phase_time = &account_;
}

PhaseTimeRecorder::~PhaseTimeRecorder() {
  ctx_.phase_time = nullptr;
  if (std::uncaught_exceptions() <= uncaught_at_start_) return;
  try {
    record(0);
  } catch (const std::exception& error) {
    log::warn("phase id {}: its time split could not be recorded: {}", phase_id_, error.what());
  }
}

void PhaseTimeRecorder::record(int64_t train_tokens) {
  registry::PhaseTimes stretch = account_.take();
  stretch.train_tokens = train_tokens;
  registry::add_phase_times(ctx_.registry(), phase_id_, stretch);
}

void PhaseTimeRecorder::log_goodput(const std::string& label) {
  const auto times = registry::find_phase_times(ctx_.registry(), phase_id_);
  if (!times) return;
  const auto goodput = times->goodput();
  log::info("{}: goodput {:.0f} tokens/s: {} training tokens in {:.1f} s (setup {:.1f} s, training {:.1f} s, "
            "checkpoints {:.1f} s, evaluation {:.1f} s, other {:.1f} s)",
            label, goodput.value_or(0.0), times->train_tokens, times->wall_s(), times->setup_s, times->training_s,
            times->checkpoint_s, times->eval_s, times->other_s);
}

}  // namespace grove::orch
