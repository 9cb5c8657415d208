// Grove's error types, one per boundary, each carrying the exit code the CLI maps it to.
// Bad input a user can fix (a config key, a corpus file, a registry file that is not a database) exits 2;
// runtime failures exit 1. Messages name the component, the file, key or line, and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace grove {

enum class ExitCode : int {
  kSuccess = 0,
  kRuntime = 1,
  kBadInput = 2,
  kInterrupted = 130,   // SIGINT: 128 + 2
  kTerminated = 143,    // SIGTERM: 128 + 15
};

// Base of every Grove error: a message plus the exit code the command line returns for it.
class Error : public std::runtime_error {
 public:
  Error(std::string message, ExitCode exit_code) : std::runtime_error(std::move(message)), exit_code_(exit_code) {}
  ExitCode exit_code() const noexcept { return exit_code_; }

 private:
  ExitCode exit_code_;
};

// A bad experiment file, distribution spec, model config or command-line value. Always bad input.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::string message) : Error(std::move(message), ExitCode::kBadInput) {}
};

// A corpus, shard or tokenizer problem. Bad input unless the caller says otherwise (e.g. a disk full).
class DataError : public Error {
 public:
  explicit DataError(std::string message, ExitCode exit_code = ExitCode::kBadInput)
      : Error(std::move(message), exit_code) {}
};

// A SQLite registry problem. Runtime by default; a file that is not a registry, or one newer than this binary,
// is bad input.
class RegistryError : public Error {
 public:
  explicit RegistryError(std::string message, ExitCode exit_code = ExitCode::kRuntime)
      : Error(std::move(message), exit_code) {}
};

// A checkpoint that is missing, truncated, altered or does not match the model config. Bad input by default.
class CheckpointError : public Error {
 public:
  explicit CheckpointError(std::string message, ExitCode exit_code = ExitCode::kBadInput)
      : Error(std::move(message), exit_code) {}
};

// Training stopped by SIGTERM or SIGINT after a checkpoint; carries 143 or 130.
class InterruptedError : public Error {
 public:
  InterruptedError(std::string message, ExitCode exit_code) : Error(std::move(message), exit_code) {}
};

// The exit code for any exception escaping a command: Grove errors carry theirs, anything else is a runtime failure.
int exit_code_for(const std::exception& error) noexcept;

}  // namespace grove
