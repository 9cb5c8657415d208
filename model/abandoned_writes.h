// Temporaries that a killed writer leaves behind. Checkpoint folders, blobs and atomically written files are made
// beside their target as `<target>.tmp-<pid>-<8 hex digits>` (model/temp_folder.h, common/atomic_file.h) and renamed
// into place when complete; a process killed before the rename (kill -9, power loss) leaves them for good. These
// helpers find them and remove the ones whose writer is no longer alive, so that a resumed run does not pile them up.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace grove::model {

// The writer's pid when `file_name` is a temporary's name (`...tmp-<pid>-<8 hex>`), nullopt otherwise.
std::optional<pid_t> temporary_writer_pid(std::string_view file_name);

// Whether a process with `pid` exists on this host (this process counts as alive). A pid reused since the writer
// died reads as alive: the temporary is then kept, never removed while its writer might still be at work.
bool writer_alive(pid_t pid);

// Removes every temporary directly inside `folder` whose writer is not alive (folders with their content, files);
// returns what it removed. Entries of living writers (this process's own included) and every other entry are left
// alone; a missing folder removes nothing.
std::vector<std::filesystem::path> remove_abandoned_temporaries(const std::filesystem::path& folder);

}  // namespace grove::model
