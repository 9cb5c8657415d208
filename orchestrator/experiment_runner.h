// Running an experiment file end to end, the body of `grove run` and `grove demo`: validate before anything is
// written, take the scheduler lock, then run (or resume) the timeline of every (strategy, seed) pair in turn.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/experiment_config.h"

namespace grove::orch {

struct ExperimentOutcome {
  int exit_code = 0;                   // 0, 1 (failed phase), 130/143 (interrupted), 75 (lock held)
  std::string message;                 // why it stopped, when it did
  std::vector<std::string> run_names;  // the runs of this experiment, in the order of ExperimentConfig::runs()
};

struct ExperimentRunOptions {
  std::string command = "grove run";       // recorded as the lock holder
  std::vector<int64_t> inject_nan_at_steps;  // tests only
};

ExperimentOutcome run_experiment(const ExperimentConfig& config, const ExperimentRunOptions& options = {});

}  // namespace grove::orch
