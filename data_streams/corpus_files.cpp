#include "data_streams/corpus_files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "common/errors.h"
#include "common/log.h"

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
      // `**` crosses no hidden folder, as `*` matches no leading '.': a folder read whole skips them too.
      if (k < path.size() && path[k].starts_with('.')) return false;
    }
    return false;
  }
  if (s == path.size()) return false;
  if (::fnmatch(pattern[p].c_str(), path[s].c_str(), FNM_PERIOD) != 0) return false;
  return match_segments(pattern, p + 1, path, s + 1);
}

bool is_excluded(const DistributionSpec& spec, const fs::path& path, const fs::path& real_path) {
  return std::any_of(spec.exclude.begin(), spec.exclude.end(), [&](const std::string& pattern) {
    if (pattern.find('/') == std::string::npos) {  // a file-name pattern ("*.md"): any folder
      return ::fnmatch(pattern.c_str(), path.filename().c_str(), FNM_PERIOD) == 0 ||
             ::fnmatch(pattern.c_str(), real_path.filename().c_str(), FNM_PERIOD) == 0;
    }
    return glob_matches(pattern, path.string()) || glob_matches(pattern, real_path.string());
  });
}

// A walk that follows symlinked folders but enters each real folder once: a link back to a folder above it (`ln -s
// .. parent`) would otherwise recurse until the path is too long, and std::filesystem then throws.
class FolderWalk {
 public:
  explicit FolderWalk(const fs::path& root) : root_(root) {
    std::error_code error;
    entered_.insert(fs::canonical(root, error));
    iterator_ = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, error_);
    check();
  }

  bool done() const { return iterator_ == fs::recursive_directory_iterator(); }
  const fs::path& path() const { return iterator_->path(); }
  void skip_folder() { iterator_.disable_recursion_pending(); }

  // Whether the entry is a folder (through a symlink too); a folder already entered is not entered again.
  bool is_folder() {
    std::error_code error;
    const bool folder = iterator_->is_directory(error);
    if (error) throw DataError(fmt::format("{}: cannot read: {}", path().string(), error.message()));
    if (!folder) return false;
    const fs::path real = fs::canonical(path(), error);
    if (error) throw DataError(fmt::format("{}: cannot resolve: {}", path().string(), error.message()));
    if (!entered_.insert(real).second) {
      log::warn("{}: leads to {} again (a symlinked folder), read already; not followed", path().string(),
                real.string());
      skip_folder();
    }
    return true;
  }

  void next() {
    iterator_.increment(error_);
    check();
  }

 private:
  void check() const {
    if (error_) throw DataError(fmt::format("{}: cannot list folder: {}", root_.string(), error_.message()));
  }

  fs::path root_;
  std::error_code error_;
  fs::recursive_directory_iterator iterator_;
  std::set<fs::path> entered_;
};

// Every regular file under `folder` (following symlinked folders), or `folder` itself when it is a file.
void add_tree(const fs::path& root, std::vector<fs::path>& out) {
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    out.push_back(root);
    return;
  }
  for (FolderWalk walk(root); !walk.done(); walk.next()) {
    const bool folder = walk.is_folder();
    if (walk.path().filename().string().starts_with(".")) {
      if (folder) walk.skip_folder();
      continue;
    }
    if (!folder) out.push_back(walk.path());
  }
}

void expand_pattern(const std::string& pattern, std::vector<fs::path>& out) {
  if (!has_wildcard(pattern) || fs::exists(pattern)) {  // a file named "notes[1].txt" is itself, not a glob
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
  for (FolderWalk walk(base); !walk.done(); walk.next()) {
    const bool folder = walk.is_folder();
    const auto relative = split_segments(walk.path().lexically_relative(base).string());
    if (match_segments(rest, 0, relative, 0)) {
      add_tree(walk.path(), out);
      if (folder) walk.skip_folder();
    } else if (!any_depth && relative.size() >= rest.size()) {
      walk.skip_folder();
    }
  }
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
  std::vector<std::string> not_regular;  // devices, pipes, sockets: nothing to read as a corpus
  size_t excluded = 0;
  for (const auto& raw : found) {
    const fs::path path = fs::absolute(raw).lexically_normal();
    if (spec.source == SourceKind::kFortune && path.extension() == ".dat") continue;
    std::error_code error;
    const fs::path real = fs::canonical(path, error);
    if (error) throw DataError(fmt::format("{}: cannot resolve (a dangling symlink?): {}", path.string(), error.message()));
    if (!fs::is_regular_file(real)) {
      not_regular.push_back(path.string());
      continue;
    }
    if (is_excluded(spec, path, real)) {
      ++excluded;
      continue;
    }
    files.push_back({path, real, static_cast<uint64_t>(fs::file_size(real))});
  }
  std::sort(files.begin(), files.end(), [](const CorpusFile& a, const CorpusFile& b) { return a.path < b.path; });
  std::set<fs::path> seen;
  std::vector<CorpusFile> unique;
  for (auto& file : files) {
    if (seen.insert(file.real_path).second) unique.push_back(std::move(file));
  }
  if (unique.empty()) {
    std::string why = fmt::format("{} excluded", excluded);
    if (!not_regular.empty()) {
      why += fmt::format(", {} not regular files ({})", not_regular.size(), fmt::join(not_regular, ", "));
    }
    throw DataError(fmt::format("distribution '{}': no corpus files left ({}; paths: {})", spec.name, why,
                                fmt::join(spec.paths, ", ")));
  }
  return unique;
}

}  // namespace grove::data
