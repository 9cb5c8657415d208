#include "orchestrator/cli/command.h"

namespace grove::cli {

std::vector<Command> command_table() {
  // Subcommands are added here as their issues land; none is listed before it does something real.
  return {};
}

}  // namespace grove::cli
