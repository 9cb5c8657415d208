#include "data_streams/corpus_files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>

#include <algorithm>
#include <iterator>
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
    }
    return false;
  }
  if (s == path.size()) return false;
  if (::fnmatch(pattern[p].c_str(), path[s].c_str(), FNM_PERIOD) != 0) return false;
  return match_segments(pattern, p + 1, path, s + 1);
}

bool is_excluded(const DistributionSpec& spec, const fs::path& path, const fs::path& real_path) {
  return std::any_of(spec.exclude.begin(), spec.exclude.end(), [&](const std::string& pattern) {
    if (is_file_name_pattern(pattern)) {
      return ::fnmatch(pattern.c_str(), path.filename().c_str(), FNM_PERIOD) == 0 ||
             ::fnmatch(pattern.c_str(), real_path.filename().c_str(), FNM_PERIOD) == 0;
    }
    return glob_matches(pattern, path.string()) || glob_matches(pattern, real_path.string());
  });
}

bool is_hidden(const fs::path& path) { return path.filename().string().starts_with('.'); }

// A walk that follows symlinked folders, except into a folder it is already inside: a link back up the tree (`ln -s
// .. parent`) would otherwise recurse until the path is too long, and std::filesystem then throws. Two links to one
// folder are both walked (list_corpus_files reads each real file once).
class FolderWalk {
 public:
  explicit FolderWalk(const fs::path& root) : root_(root) {
    std::error_code error;
    enclosing_.push_back(fs::canonical(root, error));
    iterator_ = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, error_);
    check();
  }

  bool done() const { return iterator_ == fs::recursive_directory_iterator(); }
  const fs::path& path() const { return iterator_->path(); }
  void skip_folder() { iterator_.disable_recursion_pending(); }

  // Whether the entry is a folder (through a symlink too). A dangling symlink is not one (list_corpus_files names
  // it); a folder that encloses this entry is not entered again.
  bool is_folder() {
    std::error_code error;
    const bool folder = iterator_->is_directory(error);
    if (error == std::errc::no_such_file_or_directory) return false;
    if (error) throw DataError(fmt::format("{}: cannot read: {}", path().string(), error.message()));
    if (!folder) return false;
    fs::path real = fs::canonical(path(), error);
    if (error) throw DataError(fmt::format("{}: cannot resolve: {}", path().string(), error.message()));
    enclosing_.resize(static_cast<size_t>(iterator_.depth()) + 1);  // the folders this entry is in
    if (std::find(enclosing_.begin(), enclosing_.end(), real) != enclosing_.end()) {
      log::warn("{}: leads back to {}, a folder it is inside; not followed", path().string(), real.string());
      skip_folder();
    } else {
      enclosing_.push_back(std::move(real));
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
  std::vector<fs::path> enclosing_;  // canonical paths of the root and the folders down to the current entry
};

// Every regular file under `folder` (following symlinked folders; hidden files and folders left out), or `folder`
// itself when it is a file.
void add_tree(const fs::path& root, std::vector<fs::path>& out) {
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    out.push_back(root);
    return;
  }
  for (FolderWalk walk(root); !walk.done(); walk.next()) {
    if (is_hidden(walk.path())) {
      walk.skip_folder();  // no effect on a file
      continue;
    }
    if (!walk.is_folder()) out.push_back(walk.path());
  }
}

void expand_pattern(const std::string& pattern, std::vector<fs::path>& out) {
  std::error_code error;
  const bool exists = fs::exists(pattern, error);
  if (error && error != std::errc::no_such_file_or_directory && error != std::errc::not_a_directory) {
    throw DataError(fmt::format("{}: cannot read: {}", pattern, error.message()));
  }
  if (!has_wildcard(pattern) || exists) {  // a file named "notes[1].txt" is itself, not a glob
    if (!exists) throw DataError(fmt::format("{}: no such file or folder", pattern));
    add_tree(pattern, out);
    return;
  }
  const auto segments = split_segments(pattern);
  fs::path base = "/";
  size_t first_wild = 0;
  while (first_wild < segments.size() && !has_wildcard(segments[first_wild])) base /= segments[first_wild++];
  if (!fs::is_directory(base, error)) {
    throw DataError(fmt::format("{}: no such folder (from the glob '{}'){}", base.string(), pattern,
                                error ? ": " + error.message() : std::string()));
  }
  const std::vector<std::string> rest(segments.begin() + static_cast<std::ptrdiff_t>(first_wild), segments.end());
  const bool any_depth = std::find(rest.begin(), rest.end(), "**") != rest.end();
  // Hidden files and folders are walked only for a pattern that names one ("**/.config/*"): `*` matches no leading
  // '.', and `**` is kept out of them here, as a folder read whole leaves them out.
  const bool names_hidden =
      std::any_of(rest.begin(), rest.end(), [](const std::string& segment) { return segment.starts_with('.'); });
  const size_t before = out.size();
  for (FolderWalk walk(base); !walk.done(); walk.next()) {
    if (!names_hidden && is_hidden(walk.path())) {
      walk.skip_folder();
      continue;
    }
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

// A path outside every allowed root, after its symlinks are resolved: refused before anything is read.
void require_within(const fs::path& shown, const fs::path& resolved, const std::vector<fs::path>& roots) {
  if (roots.empty()) return;
  if (std::any_of(roots.begin(), roots.end(), [&](const fs::path& root) { return is_within(resolved, root); })) return;
  std::vector<std::string> names;
  for (const auto& root : roots) names.push_back(root.string());
  throw DataError(fmt::format(
      "{}: {}outside the folders this ingest may read ({}); an inbox item may name only files inside its own "
      "folder, or under a folder the operator allows with `--allow-root DIR`",
      shown.string(), shown == resolved ? std::string() : fmt::format("resolves to {}, ", resolved.string()),
      fmt::join(names, ", ")));
}

// The fixed part of a pattern (the folders before its first wildcard), symlinks resolved as far as it exists.
fs::path pattern_base(const std::string& pattern) {
  fs::path base = "/";
  for (const auto& segment : split_segments(pattern)) {
    if (has_wildcard(segment)) break;
    base /= segment;
  }
  std::error_code error;
  fs::path resolved = fs::weakly_canonical(base, error);
  return error ? base.lexically_normal() : resolved;
}

}  // namespace

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty() && std::next(r) == root.end()) return true;  // a root written with a trailing '/'
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

bool glob_matches(std::string_view pattern, std::string_view path) {
  const bool absolute = pattern.starts_with("/");
  if (absolute != path.starts_with("/")) return false;
  return match_segments(split_segments(pattern), 0, split_segments(path), 0);
}

std::vector<CorpusFile> list_corpus_files(const DistributionSpec& spec, const std::vector<fs::path>& allowed_roots) {
  for (const auto& pattern : spec.paths) require_within(pattern, pattern_base(pattern), allowed_roots);
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
    require_within(path, real, allowed_roots);
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
