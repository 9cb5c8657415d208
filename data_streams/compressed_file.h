// Reads a corpus file whole, decompressing `.gz` (zlib) and `.zst` (libzstd) transparently by extension.
// A truncated or corrupt compressed file is a DataError naming it, never a silently shortened corpus.
#pragma once

#include <filesystem>
#include <string>

namespace grove::data {

// The file's (decompressed) bytes. Throws DataError naming the file when it cannot be read or decompressed.
std::string read_corpus_file(const std::filesystem::path& path);

}  // namespace grove::data
