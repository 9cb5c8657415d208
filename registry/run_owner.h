// Whether a run recorded as `running` still has a process behind it. Every process that advances a run holds the
// registry's scheduler lock (an flock on "<registry>.lock": orchestrator/scheduler_lock.h) for as long as it lives,
// and the kernel drops that lock when the process dies. A run recorded as running while nobody holds the lock was
// left by a process that is gone (kill -9, out of memory, power lost) before it could record why: the run
// readers (find_run, require_run, list_runs) show it as interrupted, which is what the next `grove run` or
// `grove tick` resumes.
#pragma once

#include <filesystem>

#include "registry/database.h"
#include "registry/runs.h"

namespace grove::registry {

// "<registry>.lock": the file the scheduler lock is taken on.
std::filesystem::path scheduler_lock_path(const std::filesystem::path& registry_path);

// Whether some process holds the scheduler lock of the registry at `registry_path`. Answers without waiting, and
// without creating the lock file (none there: nobody holds it). True when it cannot be told (an in-memory registry,
// a lock file this process may not open), so that a run is never called interrupted on a guess.
bool scheduler_lock_held(const std::filesystem::path& registry_path);

// The status readers should see: `running` becomes `interrupted` when no process holds the registry's lock.
RunStatus status_as_seen(const Database& db, RunStatus stored);

}  // namespace grove::registry
