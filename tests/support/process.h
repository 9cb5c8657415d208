// Runs a program (normally the grove binary) with arguments and environment, capturing stdout, stderr and the
// exit status, so tests can check what a user sees.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace grove::testing {

struct ProcessResult {
  int exit_code = -1;      // the exit status, or 128 + signal when killed by one
  std::string out;         // stdout
  std::string err;         // stderr
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or overriding) the current environment
  std::string stdin_text;
  std::string working_dir;
};

ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const ProcessOptions& options = {});

// The grove binary built alongside the tests.
ProcessResult run_grove(const std::vector<std::string>& args, const ProcessOptions& options = {});
std::string grove_binary();
std::string source_dir();

}  // namespace grove::testing
