#include "data_streams/corpus_files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "common/errors.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_segments(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) segments.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool has_wildcard(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

bool match_segments(const std::vector<std::string>& pattern, size_t p, const std::vector<std::string>& path, size_t s) {
  if (p == pattern.size()) return s == path.size();
  if (pattern[p] == "**") {
    for (size_t k = s; k <= path.size(); ++k) {
      if (match_segments(pattern, p + 1, path, k)) return true;
    }
    return false;
  }
  if (s == path.size()) return false;
  if (::fnmatch(pattern[p].c_str(), path[s].c_str(), FNM_PERIOD) != 0) return false;
  return match_segments(pattern, p + 1, path, s + 1);
}

bool is_excluded(const DistributionSpec& spec, const fs::path& path, const fs::path& real_path) {
  return std::any_of(spec.exclude.begin(), spec.exclude.end(), [&](const std::string& pattern) {
    return glob_matches(pattern, path.string()) || glob_matches(pattern, real_path.string());
  });
}

// Every regular file under `folder` (following symlinked folders), or `folder` itself when it is a file.
void add_tree(const fs::path& root, std::vector<fs::path>& out) {
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    out.push_back(root);
    return;
  }
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) throw DataError(fmt::format("{}: cannot list folder: {}", root.string(), error.message()));
    if (it->path().filename().string().starts_with(".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory()) out.push_back(it->path());
  }
  if (error) throw DataError(fmt::format("{}: cannot list folder: {}", root.string(), error.message()));
}

void expand_pattern(const std::string& pattern, std::vector<fs::path>& out) {
  if (!has_wildcard(pattern)) {
    if (!fs::exists(pattern)) throw DataError(fmt::format("{}: no such file or folder", pattern));
    add_tree(pattern, out);
    return;
  }
  const auto segments = split_segments(pattern);
  fs::path base = "/";
  size_t first_wild = 0;
  while (first_wild < segments.size() && !has_wildcard(segments[first_wild])) base /= segments[first_wild++];
  if (!fs::is_directory(base)) {
    throw DataError(fmt::format("{}: no such folder (from the glob '{}')", base.string(), pattern));
  }
  const std::vector<std::string> rest(segments.begin() + static_cast<std::ptrdiff_t>(first_wild), segments.end());
  const bool any_depth = std::find(rest.begin(), rest.end(), "**") != rest.end();
  const size_t before = out.size();
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(base, fs::directory_options::follow_directory_symlink, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    const auto relative = split_segments(it->path().lexically_relative(base).string());
    if (match_segments(rest, 0, relative, 0)) {
      add_tree(it->path(), out);
      if (it->is_directory()) it.disable_recursion_pending();
    } else if (!any_depth && relative.size() >= rest.size()) {
      it.disable_recursion_pending();
    }
  }
  if (error) throw DataError(fmt::format("{}: cannot list folder: {}", base.string(), error.message()));
  if (out.size() == before) throw DataError(fmt::format("{}: no files match this glob", pattern));
}

}  // namespace

bool glob_matches(std::string_view pattern, std::string_view path) {
  const bool absolute = pattern.starts_with("/");
  if (absolute != path.starts_with("/")) return false;
  return match_segments(split_segments(pattern), 0, split_segments(path), 0);
}

std::vector<CorpusFile> list_corpus_files(const DistributionSpec& spec) {
  std::vector<fs::path> found;
  for (const auto& pattern : spec.paths) expand_pattern(pattern, found);
  std::vector<CorpusFile> files;
  for (const auto& raw : found) {
    const fs::path path = fs::absolute(raw).lexically_normal();
    if (spec.source == SourceKind::kFortune && path.extension() == ".dat") continue;
    std::error_code error;
    const fs::path real = fs::canonical(path, error);
    if (error) throw DataError(fmt::format("{}: cannot resolve (a dangling symlink?): {}", path.string(), error.message()));
    if (!fs::is_regular_file(real)) continue;
    if (is_excluded(spec, path, real)) continue;
    files.push_back({path, real, static_cast<uint64_t>(fs::file_size(real))});
  }
  std::sort(files.begin(), files.end(), [](const CorpusFile& a, const CorpusFile& b) { return a.path < b.path; });
  std::set<fs::path> seen;
  std::vector<CorpusFile> unique;
  for (auto& file : files) {
    if (seen.insert(file.real_path).second) unique.push_back(std::move(file));
  }
  if (unique.empty()) {
    throw DataError(fmt::format("distribution '{}': no corpus files left after exclusions (paths: {})", spec.name,
                                fmt::join(spec.paths, ", ")));
  }
  return unique;
}

}  // namespace grove::data
