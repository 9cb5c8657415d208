// Helpers shared by the commands that train (run, tick, watch, demo): the scheduler lock with its "held by pid N"
// message, and experiment overrides from flags.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "orchestrator/scheduler_lock.h"

namespace grove::cli {

// Takes the registry's scheduler lock, or prints who holds it and returns nullopt (the command then exits with
// orch::kLockBusyExitCode).
std::optional<orch::SchedulerLock> take_scheduler_lock(const std::filesystem::path& registry, const std::string& command);

}  // namespace grove::cli
