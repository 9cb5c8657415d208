// Strict reading of YAML configuration: every key is either known or an error that names the key, the file and
// line, and the closest valid key; every value is checked for its type with the same context. Used by the experiment,
// distribution-spec and model-config parsers so all of them report problems the same way.
//
//   StrictMap model(root["model"], "experiment.yaml", "model");
//   int d_model = model.get<int>("d_model", 256);      // optional with default
//   auto name = model.required<std::string>("name");    // missing -> ConfigError
//   model.finish();                                     // unknown keys -> ConfigError ("did you mean ...")
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace grove {

// "file:line:column" for a node (1-based), or just the file when the node has no position. A node that came from
// the command line (tag_command_line_value) is named by its assignment instead ("--set training.steps=many"): its
// yaml-cpp position is inside that one-line value, not in the file.
std::string yaml_location(const YAML::Node& node, const std::string& file);

// Marks `value` and every node under it as given on the command line by `assignment`, for yaml_location.
void tag_command_line_value(YAML::Node value, const std::string& assignment);

// The valid key closest to `key` by edit distance, if any is reasonably close.
std::optional<std::string> closest_key(std::string_view key, const std::vector<std::string>& valid);

// Parse a YAML document from a file or a string; syntax errors become ConfigError with file:line:column.
YAML::Node load_yaml_file(const std::string& path);
YAML::Node load_yaml_string(const std::string& text, const std::string& name);

class StrictMap {
 public:
  // `node` must be a mapping (or null/undefined, treated as empty). `path` is the dotted key path for messages
  // ("model", "distributions[2]").
  StrictMap(YAML::Node node, std::string file, std::string path);

  bool has(const std::string& key);
  template <typename T>
  T required(const std::string& key);
  template <typename T>
  T get(const std::string& key, const T& fallback);
  template <typename T>
  std::optional<T> optional(const std::string& key);
  template <typename T>
  std::vector<T> list(const std::string& key);  // a sequence (or absent: empty); a scalar is a one-element list

  StrictMap map(const std::string& key);              // nested mapping (absent: empty map)
  std::vector<StrictMap> list_of_maps(const std::string& key);
  YAML::Node raw(const std::string& key);               // marks the key as known; caller validates

  // Throws ConfigError for the first key that was never asked for (in document order).
  void finish() const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const;  // "model.d_model"
  std::string where(const std::string& key) const;      // "experiment.yaml:12:3: key 'model.d_model'"
  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node lookup(const std::string& key);
  template <typename T>
  T convert(const YAML::Node& value, const std::string& key) const;

  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::set<std::string> asked_;
};

// Human name of a C++ type for "expected ..." messages.
template <typename T>
const char* yaml_type_name();

}  // namespace grove

#include "common/strict_yaml_inl.h"
