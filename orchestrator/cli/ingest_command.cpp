// `grove ingest`: read a corpus into a registered distribution (from a spec file, or from flags), tokenizing it
// right away when the registry has a tokenizer. Prints the summary; "unchanged" when the content was ingested before.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "common/errors.h"
#include "common/file_permissions.h"
#include "data_streams/corpus_files.h"
#include "data_streams/corpus_probe.h"
#include "data_streams/corpus_spec.h"
#include "data_streams/ingest.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/registry_command.h"
#include "orchestrator/stop_signal.h"
#include "registry/database.h"

namespace grove::cli {
namespace {

struct IngestArgs {
  std::vector<std::string> spec_files;
  std::string name;
  std::string source;
  std::vector<std::string> paths;
  std::vector<std::string> exclude;
  std::string doc_per;
  std::string field;
  std::optional<double> holdout;
  std::optional<uint64_t> split_seed;
  std::optional<uint64_t> min_chars;
  std::optional<uint64_t> max_chars;
  bool replace = false;
  bool no_tokenize = false;
  std::string tokenizer;
  unsigned threads = 0;
  std::string registry;
};

// The flags as a spec node, so flags and files go through the same strict parser and validation.
data::DistributionSpec spec_from_flags(const IngestArgs& args) {
  if (args.name.empty() || args.source.empty() || args.paths.empty()) {
    throw ConfigError("grove ingest: give --spec FILE, or NAME with --source KIND and --path GLOB");
  }
  YAML::Node node;
  node["name"] = args.name;
  node["source"] = args.source;
  for (const auto& path : args.paths) node["paths"].push_back(path);
  for (const auto& path : args.exclude) node["exclude"].push_back(path);
  if (!args.doc_per.empty()) node["doc_per"] = args.doc_per;
  if (!args.field.empty()) node["field"] = args.field;
  if (args.holdout) node["holdout"] = *args.holdout;
  if (args.split_seed) node["split_seed"] = *args.split_seed;
  if (args.min_chars) node["min_chars"] = *args.min_chars;
  if (args.max_chars) node["max_chars"] = *args.max_chars;
  return data::parse_distribution_spec(node, "command line", std::filesystem::current_path());
}

int run_ingest(const IngestArgs& args) {
  std::vector<data::DistributionSpec> specs;
  if (!args.spec_files.empty()) {
    if (!args.name.empty() || !args.source.empty() || !args.paths.empty()) {
      throw ConfigError("grove ingest: --spec replaces NAME, --source and --path; give one or the other");
    }
    for (const auto& file : args.spec_files) specs.push_back(data::load_distribution_spec(file));
  } else {
    specs.push_back(spec_from_flags(args));
  }
  // Every spec's files are looked at before the first is ingested: an empty or binary file named by the last spec
  // is refused before the first is registered.
  for (const auto& spec : specs) {
    data::validate_distribution_spec(spec, fmt::format("distribution '{}'", spec.name));
    data::probe_corpus_files(spec, data::list_corpus_files(spec));
  }
  // A registry in a folder that does not exist yet: made, as `grove run` makes it.
  const auto registry_path = resolve_registry_path(args.registry);
  if (registry_path.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(registry_path.parent_path(), error);
    if (error) {
      throw ConfigError(fmt::format("--registry {}: cannot create its folder {}: {}", registry_path.string(),
                                    registry_path.parent_path().string(), error.message()));
    }
  }
  // Documents and shards are no more readable than the registry's folder; SIGTERM/SIGINT stop the ingest at the next
  // document or chunk with nothing of it registered.
  narrow_umask_to_folder(std::filesystem::absolute(registry_path).parent_path());
  orch::install_stop_signal_handlers();
  auto db = registry::Database::open(registry_path, registry::OpenMode::kReadWrite);
  data::IngestOptions options;
  options.replace = args.replace;
  options.tokenize = !args.no_tokenize;
  if (!args.tokenizer.empty()) options.tokenizer_hash = args.tokenizer;
  options.threads = args.threads;
  for (const auto& spec : specs) {
    const data::IngestReport report = data::ingest_distribution(db, spec, options);
    fmt::print("{}\n", report.summary());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

Command ingest_command() {
  return {"ingest", "Read a corpus into a registered distribution: documents, holdout split, token shards",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<IngestArgs>();
            app.add_option("name", args->name, "Distribution name (with --source and --path)");
            app.add_option("--spec", args->spec_files, "Distribution spec YAML file(s) (see docs/DATA.md)");
            app.add_option("--source", args->source, "Corpus kind: text, fortune or jsonl")
                ->check(CLI::IsMember({"text", "fortune", "jsonl"}));
            app.add_option("--path", args->paths, "File, folder (read recursively) or glob; repeatable");
            app.add_option("--exclude", args->exclude, "Glob of files to leave out; repeatable");
            app.add_option("--doc-per", args->doc_per, "text: one document per 'file' or per 'paragraph'");
            app.add_option("--field", args->field, "jsonl: the string field holding the text (default text)");
            app.add_option("--holdout", args->holdout, "Fraction of documents held out for evaluation (default 0.05)");
            app.add_option("--split-seed", args->split_seed, "Seed of the document hash deciding the split (default 0)");
            app.add_option("--min-chars", args->min_chars, "Skip documents shorter than this (default 1)");
            app.add_option("--max-chars", args->max_chars, "Skip documents longer than this (default 1000000)");
            app.add_flag("--replace", args->replace,
                         "Register changed content under an existing name as a new version (the old one is kept)");
            app.add_option("--tokenizer", args->tokenizer, "Tokenize with this tokenizer hash (default: the newest)");
            app.add_flag("--no-tokenize", args->no_tokenize, "Only ingest documents; tokenize later");
            app.add_option("--threads", args->threads, "Encoding threads (default: all cores)");
            app.add_option("--registry", args->registry, "Registry file (default $GROVE_REGISTRY, then ./grove.db)");
            return [args] { return run_ingest(*args); };
          }};
}

}  // namespace grove::cli
