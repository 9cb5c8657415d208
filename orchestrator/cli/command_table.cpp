#include "orchestrator/cli/command.h"
#include "orchestrator/cli/registry_command.h"

namespace grove::cli {

Command demo_command();         // demo_command.cpp
Command run_command();          // run_command.cpp
Command tick_command();         // tick_command.cpp
Command watch_command();        // tick_command.cpp
Command eval_command();         // eval_command.cpp
Command dump_config_command();  // dump_config_command.cpp
Command ingest_command();     // ingest_command.cpp
Command tokenizer_command();  // tokenizer_command.cpp
Command export_command();     // export_command.cpp
Command report_command();     // report_command.cpp

std::vector<Command> command_table() {
  // One entry per subcommand; none is listed before it does something real.
  return {
      demo_command(),
      run_command(),
      tick_command(),
      watch_command(),
      eval_command(),
      dump_config_command(),
      registry_command(),
      ingest_command(),
      tokenizer_command(),
      export_command(),
      report_command(),
  };
}

}  // namespace grove::cli
