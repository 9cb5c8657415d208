#include "common/strict_yaml.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace grove {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// A yaml-cpp tag is free text that Grove reads nowhere else; this prefix marks one set by tag_command_line_value.
constexpr std::string_view kCommandLineTag = "!grove-command-line ";

}  // namespace

void tag_command_line_value(YAML::Node value, const std::string& assignment) {
  const std::string tag = std::string(kCommandLineTag) + assignment;
  if (value.Tag() == tag) return;  // reached again through an alias (`&a [*a]`): tagged already
  value.SetTag(tag);
  if (value.IsSequence()) {
    for (auto item : value) tag_command_line_value(item, assignment);
  } else if (value.IsMap()) {
    for (auto entry : value) {
      tag_command_line_value(entry.first, assignment);
      tag_command_line_value(entry.second, assignment);
    }
  }
}

std::string yaml_location(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined()) return file;
  if (const std::string& tag = node.Tag(); tag.rfind(kCommandLineTag, 0) == 0) {
    return "--set " + tag.substr(kCommandLineTag.size());
  }
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

std::optional<std::string> closest_key(std::string_view key, const std::vector<std::string>& valid) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, key.size() / 3) + 1;
  for (const auto& candidate : valid) {
    const size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

YAML::Node load_yaml_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw ConfigError(fmt::format("{}: is a folder; expected a YAML file", path));
  }
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open (does the file exist and is it readable?)", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return load_yaml_string(buffer.str(), path);
}

YAML::Node load_yaml_string(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

StrictMap::StrictMap(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    throw ConfigError(fmt::format("{}: '{}' must be a mapping of keys to values", yaml_location(node_, file_),
                                  path_.empty() ? "document" : path_));
  }
  // yaml-cpp keeps both copies of a repeated key and lookups find the first: a value appended at the end of a
  // section to override it would be ignored without a word.
  if (!node_.IsMap()) return;
  std::map<std::string, YAML::Node> seen;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (const auto [first, inserted] = seen.emplace(key, entry.first); !inserted) {
      throw ConfigError(fmt::format("{}: key '{}' is given twice (first at line {}); keep one",
                                    yaml_location(entry.first, file_), key_path(key), first->second.Mark().line + 1));
    }
  }
}

std::string StrictMap::key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

std::string StrictMap::where(const std::string& key) const {
  YAML::Node value;
  if (node_.IsMap()) {
    for (const auto& entry : node_) {
      if (entry.first.Scalar() == key) value = entry.second;
    }
  }
  return fmt::format("{}: key '{}'", yaml_location(value.IsDefined() ? value : node_, file_), key_path(key));
}

YAML::Node StrictMap::lookup(const std::string& key) {
  asked_.insert(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : node_) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool StrictMap::has(const std::string& key) {
  const YAML::Node value = lookup(key);
  return value.IsDefined() && !value.IsNull();
}

StrictMap StrictMap::map(const std::string& key) { return StrictMap(lookup(key), file_, key_path(key)); }

std::vector<StrictMap> StrictMap::list_of_maps(const std::string& key) {
  YAML::Node value = lookup(key);
  std::vector<StrictMap> items;
  if (!value.IsDefined() || value.IsNull()) return items;
  if (!value.IsSequence()) throw ConfigError(fmt::format("{}: expected a list of mappings", where(key)));
  for (size_t i = 0; i < value.size(); ++i) {
    items.emplace_back(value[i], file_, fmt::format("{}[{}]", key_path(key), i));
  }
  return items;
}

YAML::Node StrictMap::raw(const std::string& key) { return lookup(key); }

void StrictMap::finish() const {
  if (!node_.IsMap()) return;
  std::vector<std::string> valid(asked_.begin(), asked_.end());
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (asked_.count(key) != 0) continue;
    std::string message = fmt::format("{}: unknown key '{}'", yaml_location(entry.first, file_), key_path(key));
    if (const auto suggestion = closest_key(key, valid)) {
      message += fmt::format("; did you mean '{}'?", *suggestion);
    } else {
      std::string all;
      for (const auto& v : valid) all += (all.empty() ? "" : ", ") + v;
      message += fmt::format("; valid keys here: {}", all);
    }
    throw ConfigError(message);
  }
}

}  // namespace grove
