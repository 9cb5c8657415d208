// One `grove` subcommand: its name, its one-line help, and how it declares options and runs.
// Each subcommand lives in its own file and is listed once in command_table.cpp (the Marian pattern:
// name -> function -> one-line help). A subcommand parses its options into a plain struct and calls a library.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace grove::cli {

// What a subcommand returns after parsing: the function to run, returning the process exit code.
using CommandRunner = std::function<int()>;

struct Command {
  std::string name;
  std::string summary;  // one line, shown by `grove --help`
  // Declares the subcommand's options on `app` (which already carries name and summary) and returns its runner.
  std::function<CommandRunner(CLI::App& app)> setup;
};

// Every subcommand that has landed, in the order `grove --help` lists them.
std::vector<Command> command_table();

// Parses argv, runs the chosen subcommand and maps errors to exit codes (0 ok, 1 runtime, 2 bad input).
int run_cli(int argc, char** argv);

}  // namespace grove::cli
