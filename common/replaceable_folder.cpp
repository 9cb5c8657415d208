#include "common/replaceable_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "common/errors.h"

namespace grove {
namespace fs = std::filesystem;

fs::path normalised_output_folder(const fs::path& out, const ReplaceableFolder& kind) {
  if (out.empty()) throw ConfigError(fmt::format("{}: --out is empty; give the folder to write to", kind.command));
  fs::path target = fs::absolute(out).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  if (target == target.root_path()) throw ConfigError(fmt::format("{}: --out cannot be the root folder", kind.command));
  return target;
}

void check_replaceable(const fs::path& target, const ReplaceableFolder& kind) {
  std::error_code error;
  const auto status = fs::symlink_status(target, error);
  if (error || !fs::exists(status)) return;
  if (!fs::is_directory(status)) {
    throw ConfigError(fmt::format("{}: --out {} exists and is {}; give a new folder or one that holds {}",
                                  kind.command, target.string(),
                                  fs::is_symlink(status) ? "a symlink (replacing it would not write through it)"
                                                         : "not a folder",
                                  kind.output));
  }
  for (const auto& entry : fs::directory_iterator(target)) {
    const std::string name = entry.path().filename().string();
    if (std::find(kind.known_files.begin(), kind.known_files.end(), name) == kind.known_files.end()) {
      throw ConfigError(fmt::format("{}: --out {} holds '{}', which is not part of {}; {} replaces the folder as a "
                                    "whole, so give an empty or new folder, or one that holds {} already",
                                    kind.command, target.string(), name, kind.output, kind.command, kind.output));
    }
  }
}

}  // namespace grove
