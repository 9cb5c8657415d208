// The `grove` executable: everything happens in run_cli(). A command stopped while a worker it could not cancel still
// ran (SentencePiece training: common/stoppable_work.h) ends without static destructors running under that worker.
#include "common/stoppable_work.h"
#include "orchestrator/cli/command.h"

int main(int argc, char** argv) {
  const int code = grove::cli::run_cli(argc, argv);
  if (grove::workers_abandoned()) grove::exit_process(code);
  return code;
}
