// Which files make a corpus: expands a spec's paths (files, folders read recursively, globs with `**`), drops
// excluded ones, resolves symlinks so the same real file is never read twice (fortune `.u8` links), skips fortune
// `.dat` index files, and returns the files in a canonical order (sorted by path) so fingerprints are reproducible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "data_streams/corpus_spec.h"

namespace grove::data {

struct CorpusFile {
  std::filesystem::path path;       // as found (absolute, lexically normal)
  std::filesystem::path real_path;  // symlinks resolved
  uint64_t size = 0;                // on disk (compressed size for .gz/.zst)
};

// Whether `path` matches a glob: `*` and `?` within one path segment (not matching a leading '.'), `[...]` classes,
// and a `**` segment for any number of folders.
bool glob_matches(std::string_view pattern, std::string_view path);

// The corpus files of `spec`. Throws DataError naming the path for a path that does not exist or a glob that
// matches nothing, and naming the spec when nothing is left after exclusions.
// With `allowed_roots` (canonical folders; empty: no limit), every path must lie inside one of them: a pattern's
// fixed part before anything is listed, and each file found after its symlinks are resolved; a DataError naming
// the path and the roots otherwise, before any file is read.
std::vector<CorpusFile> list_corpus_files(const DistributionSpec& spec,
                                          const std::vector<std::filesystem::path>& allowed_roots = {});

// Whether `path` is `root` or inside it, comparing whole path elements (both absolute and normal).
bool is_within(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace grove::data
