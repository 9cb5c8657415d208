// A distribution spec: which files make a named corpus, how to cut them into documents, which documents to keep and
// which go to the holdout. Parsed strictly from YAML (a spec file, or a node embedded in an experiment file) and
// validated as a separate step; `to_yaml` gives the canonical text the registry stores.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace grove::data {

enum class SourceKind { kText, kFortune, kJsonl };
enum class DocPer { kFile, kParagraph };

struct DistributionSpec {
  std::string name;                   // [a-z0-9_][a-z0-9_.-]*: also a folder name
  SourceKind source = SourceKind::kText;
  std::vector<std::string> paths;     // files, folders (read recursively) or globs (*, ?, [..], ** for any depth)
  DocPer doc_per = DocPer::kFile;     // text only: one document per file or per blank-line paragraph
  std::string field = "text";         // jsonl only: the string field holding the document
  double holdout = 0.05;              // fraction of documents held out for evaluation, in [0, 0.5]
  uint64_t split_seed = 0;            // seeds the document hash that decides the split
  uint64_t min_chars = 1;             // documents shorter than this (in code points) are skipped and counted
  uint64_t max_chars = 1'000'000;     // documents longer than this are skipped and counted
  std::vector<std::string> exclude;   // globs matched against each file's path and its resolved real path
  double max_invalid_fraction = 0.01; // a document with more replaced bytes than this share of its characters
                                      // is skipped, otherwise its invalid UTF-8 is repaired (U+FFFD)
};

// An exclude pattern without a '/' ("*.md") matches file names in every folder and is kept as written; one with a
// folder in it matches whole paths and is resolved like `paths`.
inline bool is_file_name_pattern(std::string_view pattern) { return pattern.find('/') == std::string_view::npos; }

std::string_view to_text(SourceKind kind);
std::string_view to_text(DocPer doc_per);

// Parses a spec from a YAML mapping. `file` names the source in messages; relative paths are resolved against
// `base_dir` (the spec file's folder). Unknown keys and wrong types are ConfigError naming file, line and key.
DistributionSpec parse_distribution_spec(const YAML::Node& node, const std::string& file,
                                         const std::filesystem::path& base_dir, const std::string& key_path = "");
DistributionSpec load_distribution_spec(const std::filesystem::path& file);

// Checks the values (name form, fractions, options that only apply to one source); throws ConfigError naming `where`.
void validate_distribution_spec(const DistributionSpec& spec, const std::string& where);

// Canonical YAML (fixed key order, absolute paths): stored in the registry, parses back to an equal spec.
std::string to_yaml(const DistributionSpec& spec);

}  // namespace grove::data
