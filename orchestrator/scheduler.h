// The scheduled job behind `grove tick` and `grove watch` (cron, systemd timers, Slurm): under the registry's
// scheduler lock, ingest the inbox's ready distributions and append them to every active run's timeline, then run
// or resume the oldest unfinished phase (one per tick) and exit. "Nothing to do" is success.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grove::orch {

struct TickOptions {
  std::filesystem::path registry;
  std::optional<std::filesystem::path> inbox;
  std::optional<std::string> run;  // only this run (default: every run that has not failed)
  int max_phases = 1;
  // Folders (canonical) an inbox item's spec and corpus may lie in besides the item's own folder (--allow-root).
  std::vector<std::filesystem::path> allowed_roots;
};

struct TickResult {
  int exit_code = 0;
  int ingested = 0;      // inbox items ingested
  int failed_items = 0;  // inbox items that failed to ingest (moved to .failed)
  int phases_run = 0;
  std::string summary;   // one line for the user
};

// The tick body; the caller holds the scheduler lock.
TickResult tick_once(const TickOptions& options);

}  // namespace grove::orch
