// The --tsv file both GPU benchmarks write for bench/side_by_side.py: opened with its header line, or a clear error.
#pragma once

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <string>

namespace grove::bench {

// Opens `path` and writes `header`. An empty path means no file (out stays null). False, after saying which file on
// stderr, when the file cannot be written.
inline bool open_tsv(const char* program, const std::string& path, const std::string& header,
                     std::unique_ptr<std::ofstream>& out) {
  if (path.empty()) return true;
  out = std::make_unique<std::ofstream>(path);
  if (!*out) {
    fmt::print(stderr, "{}: cannot write '{}'\n", program, path);
    return false;
  }
  *out << header;
  return true;
}

}  // namespace grove::bench
