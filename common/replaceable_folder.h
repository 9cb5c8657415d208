// An output folder that a command writes whole and publishes with one rename (`grove report --out`, `grove export
// hf --out`), replacing what was there. So that the replacement can never take a user's unrelated files, a target
// that exists must be a folder holding nothing but files the command itself writes (an earlier output), or nothing.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace grove {

struct ReplaceableFolder {
  std::string_view command;                   // "report", "export hf": starts every message
  std::string_view output;                    // "a Grove report": what the folder holds when it is one
  std::vector<std::string_view> known_files;  // every name the command writes into the folder
};

// `out` as an absolute, lexically normal path without a trailing slash ("hf/" is "hf"). ConfigError for an empty
// path or the root folder.
std::filesystem::path normalised_output_folder(const std::filesystem::path& out, const ReplaceableFolder& kind);

// ConfigError, naming the path and the first foreign entry, unless `target` is absent, an empty folder or a folder of
// `kind.known_files` only. A file or a symlink at `target` is refused too.
void check_replaceable(const std::filesystem::path& target, const ReplaceableFolder& kind);

}  // namespace grove
