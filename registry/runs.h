// The `runs` table: one row per experiment timeline (a sequence of phases under one strategy and seed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

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
std::optional<RunRow> find_run(Database& db, std::string_view name);
std::optional<RunRow> find_run_by_id(Database& db, int64_t id);
// The run named `name`, or RegistryError(kBadInput) naming it and the runs that do exist.
RunRow require_run(Database& db, std::string_view name);
std::vector<RunRow> list_runs(Database& db);  // oldest first
void set_run_status(Database& db, int64_t run_id, RunStatus status);
void set_run_tokenizer(Database& db, int64_t run_id, int64_t tokenizer_id);

}  // namespace grove::registry
