#include "orchestrator/cli/scheduler_commands.h"

#include <fmt/format.h>

namespace grove::cli {

std::optional<orch::SchedulerLock> take_scheduler_lock(const std::filesystem::path& registry,
                                                       const std::string& command) {
  orch::LockHolder holder;
  auto lock = orch::SchedulerLock::try_acquire(registry, command, &holder);
  if (!lock) {
    fmt::print(stderr,
               "grove: another scheduler holds the lock on {} ({}); nothing was done. Try again when it finishes.\n",
               registry.string(), orch::describe(holder));
  }
  return lock;
}

}  // namespace grove::cli
