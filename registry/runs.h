// The `runs` table: one row per experiment timeline (a sequence of phases under one strategy and seed).
// The readers (find_run, find_run_by_id, require_run, list_runs) return a run's status as seen, not as stored: a run
// stored as `running` whose owner process is gone (no process holds the registry's scheduler lock: kill -9, out of
// memory, power lost) reads as `interrupted`, which the next `grove run` or `grove tick` resumes (run_owner.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

// A stored kRunning reads as kInterrupted unless some process holds the registry's scheduler lock (run_owner.h:
// status_as_seen).
enum class RunStatus { kPending, kRunning, kDone, kFailed, kInterrupted };
std::string_view to_text(RunStatus status);          // "pending" | "running" | "done" | "failed" | "interrupted"
RunStatus parse_run_status(std::string_view text);  // RegistryError(kBadInput) on anything else

struct NewRun {
  std::string name;
  std::string strategy;     // grove | lifelong_moe | finetune | replay | joint | ...
  std::string config_yaml;  // the fully resolved experiment config
  int64_t seed = 0;
  std::optional<int64_t> tokenizer_id;
  std::optional<std::string> work_dir;
};

struct RunRow : NewRun {
  int64_t id = 0;
  RunStatus status = RunStatus::kPending;
  std::string created_at;
  std::string updated_at;
  std::string grove_version;  // the binary that created the run
};

// Inserts a pending run stamped with this binary's version. A name already taken is bad input naming it.
int64_t create_run(Database& db, const NewRun& run);
// The run by name or id, its status as seen (`running` with no owner process left reads as `interrupted`).
std::optional<RunRow> find_run(Database& db, std::string_view name);
std::optional<RunRow> find_run_by_id(Database& db, int64_t id);
// The run named `name`, or RegistryError(kBadInput) naming it and the runs that do exist.
RunRow require_run(Database& db, std::string_view name);
std::vector<RunRow> list_runs(Database& db);  // oldest first; statuses as seen, like find_run's
// Stores `status` as it is (a process that sets `running` must hold the scheduler lock while it runs).
void set_run_status(Database& db, int64_t run_id, RunStatus status);
void set_run_tokenizer(Database& db, int64_t run_id, int64_t tokenizer_id);

}  // namespace grove::registry
