#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>

#include "common/errors.h"
#include "common/log.h"
#include "common/version.h"
#include "model/runtime_info.h"
#include "orchestrator/cli/command.h"

namespace grove::cli {
namespace {

std::string version_text() {
  return fmt::format("grove {}\nLibTorch {}\nCUDA {}", kVersion, model::torch_version(),
                     model::cuda_available() ? "available" : "not available");
}

void print_error(const std::string& message) { fmt::print(stderr, "grove: error: {}\n", message); }

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Grove: lifelong pretraining of Mixture-of-Experts language models.\n"
               "Grows experts for each new data distribution, freezes what must not be forgotten, measures\n"
               "forgetting, and records lineage and evaluations in a SQLite registry.",
               "grove"};
  app.set_version_flag("--version", version_text, "Print the Grove and LibTorch versions and whether CUDA is usable");
  app.footer("Exit codes: 0 success, 1 runtime failure, 2 bad input. Run 'grove COMMAND --help' for a command's options.");

  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "Log records as 'text' or 'json' lines on stderr")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "Lowest level logged: debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  std::vector<std::pair<CLI::App*, CommandRunner>> runners;
  for (const Command& command : command_table()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    runners.emplace_back(sub, command.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(e.what());
    fmt::print(stderr, "Run 'grove --help' for the list of commands and options.\n");
    return static_cast<int>(ExitCode::kBadInput);
  }

  try {
    log::set_format(log::parse_format(log_format));
    log::set_level(log::parse_level(log_level));
    for (auto& [sub, runner] : runners) {
      if (sub->parsed()) return runner();
    }
    print_error(runners.empty() ? "no commands are available in this build yet"
                                : "a command is required");
    fmt::print(stderr, "{}", app.help());
    return static_cast<int>(ExitCode::kBadInput);
  } catch (const InterruptedError& e) {  // a stop request acted on: not an error, and resumable
    fmt::print(stderr, "grove: {}\n", e.what());
    return exit_code_for(e);
  } catch (const std::exception& e) {
    print_error(e.what());
    return exit_code_for(e);
  }
}

}  // namespace grove::cli
