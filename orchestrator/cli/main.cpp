// The `grove` executable: everything happens in run_cli().
#include "orchestrator/cli/command.h"

int main(int argc, char** argv) { return grove::cli::run_cli(argc, argv); }
