// Binds a phase's time account (orchestrator/phase_time_account.h) to its registry row: while it lives, checkpoint
// saves and evaluations of the phase charge themselves to it (RunContext::phase_time), and each record() adds the
// time since the previous one to the phase's row, so an interrupted phase keeps what it spent and its resumption
// adds to it. An error escaping the phase still records what it can.
#pragma once

#include <cstdint>
#include <string>

#include "orchestrator/phase_time_account.h"
#include "orchestrator/run_context.h"

namespace grove::orch {

class PhaseTimeRecorder {
 public:
  // Starts charging to setup now and installs the account as ctx.phase_time.
  PhaseTimeRecorder(RunContext& ctx, int64_t phase_id, PhaseTimeAccount::Clock clock = {});
  // Uninstalls the account; while an exception unwinds, first records what is left (a failure to is logged only).
  ~PhaseTimeRecorder();
  PhaseTimeRecorder(const PhaseTimeRecorder&) = delete;
  PhaseTimeRecorder& operator=(const PhaseTimeRecorder&) = delete;

  PhaseTimeAccount& account() { return account_; }

  // Adds the time charged since the last record to the phase's row, with the phase's training tokens so far
  // (0 where unknown: the row keeps its count).
  void record(int64_t train_tokens);

  // Logs the phase's recorded split and its goodput (training tokens per second of wall time) under `label`.
  void log_goodput(const std::string& label);

 private:
  RunContext& ctx_;
  int64_t phase_id_;
  PhaseTimeAccount account_;
  int uncaught_at_start_;
};

}  // namespace grove::orch
