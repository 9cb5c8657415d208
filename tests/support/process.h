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

namespace grove::testing {

// A child process running in the background with its output captured to files; wait() reaps it.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                    const std::string& output_prefix);
  ~BackgroundProcess();  // kills (SIGKILL) and reaps a child still running
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  int pid() const { return pid_; }
  void signal(int signal_number) const;
  bool running();
  // Waits for the exit; returns the exit status (128 + signal when killed) and fills out/err from the files.
  ProcessResult wait();

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string out_path_, err_path_;
};

}  // namespace grove::testing
