// Crash-safe file and folder publication: write beside the target, fsync, rename over it, fsync the parent.
// A reader sees the old content or the new, never a half-written file.
#pragma once

#include <filesystem>
#include <string_view>

namespace grove {

// Write `bytes` to `path` atomically. Throws DataError(kRuntime) naming the path on any I/O failure;
// the temporary file is removed on failure.
void atomic_write_file(const std::filesystem::path& path, std::string_view bytes);

// fsync a file or a folder by path (folders: so a rename inside it is durable).
void fsync_path(const std::filesystem::path& path);

// Publish a fully written temporary folder under its final name: fsync every file in it, rename, fsync the parent.
// If `final_path` exists it is replaced (moved aside first, then removed after the rename).
void publish_folder(const std::filesystem::path& temp_path, const std::filesystem::path& final_path);

}  // namespace grove
