// `grove registry runs|distributions|phases|experts|lineage|evals|forgetting`: read-only queries of the
// experiment registry as aligned tables, JSON or CSV.
#pragma once

#include <filesystem>
#include <string>

#include "orchestrator/cli/command.h"

namespace grove::cli {

Command registry_command();

// The registry a command uses: `--registry` when given, else $GROVE_REGISTRY when set and not empty, else
// ./grove.db. Shared by every command that takes --registry.
std::filesystem::path resolve_registry_path(const std::string& flag_value);

}  // namespace grove::cli
