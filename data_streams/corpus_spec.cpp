#include "data_streams/corpus_spec.h"

#include <fmt/format.h>

#include <regex>

#include "common/errors.h"
#include "common/strict_yaml.h"

namespace grove::data {
namespace fs = std::filesystem;

std::string_view to_text(SourceKind kind) {
  switch (kind) {
    case SourceKind::kText: return "text";
    case SourceKind::kFortune: return "fortune";
    case SourceKind::kJsonl: return "jsonl";
  }
  return "?";
}

std::string_view to_text(DocPer doc_per) { return doc_per == DocPer::kFile ? "file" : "paragraph"; }

namespace {

SourceKind parse_source(const std::string& text, const std::string& where) {
  if (text == "text") return SourceKind::kText;
  if (text == "fortune") return SourceKind::kFortune;
  if (text == "jsonl") return SourceKind::kJsonl;
  throw ConfigError(fmt::format("{}: source '{}' is not known; expected text, fortune or jsonl", where, text));
}

DocPer parse_doc_per(const std::string& text, const std::string& where) {
  if (text == "file") return DocPer::kFile;
  if (text == "paragraph") return DocPer::kParagraph;
  throw ConfigError(fmt::format("{}: doc_per '{}' is not known; expected file or paragraph", where, text));
}

std::string absolute_pattern(const std::string& pattern, const fs::path& base_dir) {
  const fs::path path(pattern);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (fs::absolute(base_dir) / path).lexically_normal().string();
}

}  // namespace

DistributionSpec parse_distribution_spec(const YAML::Node& node, const std::string& file, const fs::path& base_dir,
                                         const std::string& key_path) {
  StrictMap map(node, file, key_path);
  DistributionSpec spec;
  spec.name = map.required<std::string>("name");
  spec.source = parse_source(map.required<std::string>("source"), map.where("source"));
  for (const auto& pattern : map.list<std::string>("paths")) spec.paths.push_back(absolute_pattern(pattern, base_dir));
  if (map.has("doc_per")) {
    if (spec.source != SourceKind::kText) {
      throw ConfigError(fmt::format("{}: doc_per applies to source text only (this source is {})", map.where("doc_per"),
                                    to_text(spec.source)));
    }
    spec.doc_per = parse_doc_per(map.required<std::string>("doc_per"), map.where("doc_per"));
  }
  if (map.has("field")) {
    if (spec.source != SourceKind::kJsonl) {
      throw ConfigError(fmt::format("{}: field applies to source jsonl only (this source is {})", map.where("field"),
                                    to_text(spec.source)));
    }
    spec.field = map.required<std::string>("field");
  }
  spec.holdout = map.get<double>("holdout", spec.holdout);
  spec.split_seed = map.get<uint64_t>("split_seed", spec.split_seed);
  spec.min_chars = map.get<uint64_t>("min_chars", spec.min_chars);
  spec.max_chars = map.get<uint64_t>("max_chars", spec.max_chars);
  spec.max_invalid_fraction = map.get<double>("max_invalid_fraction", spec.max_invalid_fraction);
  for (const auto& pattern : map.list<std::string>("exclude")) {
    spec.exclude.push_back(is_file_name_pattern(pattern) ? pattern : absolute_pattern(pattern, base_dir));
  }
  map.finish();
  validate_distribution_spec(spec, yaml_location(node, file));
  return spec;
}

DistributionSpec load_distribution_spec(const fs::path& file) {
  const YAML::Node root = load_yaml_file(file.string());
  return parse_distribution_spec(root, file.string(), fs::absolute(file).parent_path());
}

void validate_distribution_spec(const DistributionSpec& spec, const std::string& where) {
  static const std::regex kName("[a-z0-9_][a-z0-9_.-]{0,63}");
  if (!std::regex_match(spec.name, kName)) {
    throw ConfigError(fmt::format("{}: name '{}' is not valid; expected 1-64 characters of a-z, 0-9, '_', '.', '-' "
                                  "starting with a letter, digit or '_'",
                                  where, spec.name));
  }
  if (spec.paths.empty()) throw ConfigError(fmt::format("{}: paths: expected at least one file, folder or glob", where));
  if (!(spec.holdout >= 0.0 && spec.holdout <= 0.5)) {
    throw ConfigError(fmt::format("{}: holdout {} is out of range; expected a fraction in [0, 0.5]", where, spec.holdout));
  }
  if (spec.min_chars > spec.max_chars) {
    throw ConfigError(fmt::format("{}: min_chars {} is larger than max_chars {}", where, spec.min_chars, spec.max_chars));
  }
  if (!(spec.max_invalid_fraction >= 0.0 && spec.max_invalid_fraction <= 1.0)) {
    throw ConfigError(fmt::format("{}: max_invalid_fraction {} is out of range; expected a fraction in [0, 1]", where,
                                  spec.max_invalid_fraction));
  }
  if (spec.source == SourceKind::kJsonl && spec.field.empty()) {
    throw ConfigError(fmt::format("{}: field: expected the name of the JSON string field holding the text", where));
  }
}

std::string to_yaml(const DistributionSpec& spec) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << spec.name;
  out << YAML::Key << "source" << YAML::Value << std::string(to_text(spec.source));
  out << YAML::Key << "paths" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : spec.paths) out << p;
  out << YAML::EndSeq;
  if (spec.source == SourceKind::kText) out << YAML::Key << "doc_per" << YAML::Value << std::string(to_text(spec.doc_per));
  if (spec.source == SourceKind::kJsonl) out << YAML::Key << "field" << YAML::Value << spec.field;
  out << YAML::Key << "holdout" << YAML::Value << spec.holdout;
  out << YAML::Key << "split_seed" << YAML::Value << spec.split_seed;
  out << YAML::Key << "min_chars" << YAML::Value << spec.min_chars;
  out << YAML::Key << "max_chars" << YAML::Value << spec.max_chars;
  out << YAML::Key << "max_invalid_fraction" << YAML::Value << spec.max_invalid_fraction;
  if (!spec.exclude.empty()) {
    out << YAML::Key << "exclude" << YAML::Value << YAML::BeginSeq;
    for (const auto& p : spec.exclude) out << p;
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace grove::data
