#include "orchestrator/cli/command.h"
#include "orchestrator/cli/registry_command.h"

namespace grove::cli {

Command ingest_command();     // ingest_command.cpp
Command tokenizer_command();  // tokenizer_command.cpp

std::vector<Command> command_table() {
  // Subcommands are added here as their issues land; none is listed before it does something real.
  return {
      registry_command(),
      ingest_command(),
      tokenizer_command(),
  };
}

}  // namespace grove::cli
