// Ingest + tokenize throughput on real corpora (default: the six demo specs), through the same library calls as
// `grove ingest` and `grove tokenizer train`, into a fresh registry in a temporary folder. Prints one Markdown line
// per phase for docs/PERFORMANCE.md, and the encoder's scaling from 1 thread to all cores.
//   ingest_bench [--kind unigram|bpe] [--vocab-size N] [--sample-mb M] [--threads T] [SPEC.yaml...]
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/errors.h"
#include "data_streams/corpus_spec.h"
#include "data_streams/data_layout.h"
#include "data_streams/document_store.h"
#include "data_streams/ingest.h"
#include "data_streams/parallel_for.h"
#include "data_streams/tokenizer_registry.h"
#include "registry/database.h"
#include "registry/distributions.h"

namespace fs = std::filesystem;
using namespace grove;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds of the whole process (all threads): on a shared machine, MB per CPU-second says what the code does
// independently of what else runs; wall-clock MB/s says what the user saw.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Options {
  std::string kind = "unigram";
  uint32_t vocab_size = 8000;
  double sample_mb = 1.0;
  unsigned threads = 0;
  std::vector<std::string> specs;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) throw ConfigError(fmt::format("ingest_bench: {} needs a value", arg));
      return std::string(argv[++i]);
    };
    if (arg == "--kind") options.kind = value();
    else if (arg == "--vocab-size") options.vocab_size = static_cast<uint32_t>(std::stoul(value()));
    else if (arg == "--sample-mb") options.sample_mb = std::stod(value());
    else if (arg == "--threads") options.threads = static_cast<unsigned>(std::stoul(value()));
    else if (arg.starts_with("--")) throw ConfigError(fmt::format("ingest_bench: unknown option {}", arg));
    else options.specs.push_back(arg);
  }
  if (options.specs.empty()) {
    for (const char* name : {"en_fortunes", "de_fortunes", "ru_fortunes", "es_fortunes", "it_fortunes", "python_docs"}) {
      options.specs.push_back(fmt::format("{}/data_streams/specs/{}.yaml", GROVE_SOURCE_DIR, name));
    }
  }
  return options;
}

int run(const Options& options) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("grove-ingest-bench-{}", ::getpid());
  fs::create_directories(dir);
  auto db = registry::Database::open(dir / "grove.db");
  data::IngestOptions ingest_options;
  ingest_options.tokenize = false;
  ingest_options.progress = ProgressOptions::Mode::kSilent;

  // 1. Ingest: read, clean, fingerprint, split and store the documents.
  uint64_t file_bytes = 0, doc_bytes = 0, docs = 0;
  std::vector<std::string> names;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = cpu_seconds();
  for (const auto& file : options.specs) {
    const auto spec = data::load_distribution_spec(file);
    const auto report = data::ingest_distribution(db, spec, ingest_options);
    file_bytes += report.stats.file_bytes;
    doc_bytes += report.stats.doc_bytes;
    docs += report.stats.docs;
    names.push_back(spec.name);
  }
  const double ingest_s = seconds_since(start);
  const double ingest_cpu = cpu_seconds() - cpu_start;

  // 2. Tokenizer training (reported apart: it happens once per run, not per ingest).
  data::TokenizerSpec spec;
  spec.kind = registry::parse_tokenizer_kind(options.kind);
  spec.vocab_size = options.vocab_size;
  spec.train_on = names;
  spec.sample_bytes_per_distribution = static_cast<uint64_t>(options.sample_mb * 1e6);
  const auto trained = data::train_tokenizer(db, spec);

  // 3. Tokenize every distribution into shards.
  start = std::chrono::steady_clock::now();
  cpu_start = cpu_seconds();
  int64_t tokens = 0;
  for (const auto& row : registry::list_distributions(db)) {
    const auto report = data::ensure_tokenized(db, row.id, trained.id, options.threads, ProgressOptions::Mode::kSilent);
    tokens += report.train_tokens + report.holdout_tokens;
  }
  const double tokenize_s = seconds_since(start);
  const double tokenize_cpu = cpu_seconds() - cpu_start;

  // 4. Encoder scaling: the same documents encoded on 1 thread and on all threads.
  const auto tokenizer = data::load_registered_tokenizer(db, *data::newest_tokenizer(db));
  std::vector<data::DocumentStore> stores;
  std::vector<std::string_view> all_docs;
  const data::DataLayout layout = data::DataLayout::for_registry(db);
  for (const auto& row : registry::list_distributions(db)) stores.push_back(data::DocumentStore::open(layout.resolve(row.shard_dir)));
  for (const auto& store : stores) {
    for (uint64_t i = 0; i < store.size(); ++i) all_docs.push_back(store.document(i));
  }
  start = std::chrono::steady_clock::now();
  cpu_start = cpu_seconds();
  (void)tokenizer.encode_all(all_docs, 1);
  const double encode_1 = seconds_since(start);
  const double encode_1_cpu = cpu_seconds() - cpu_start;
  const unsigned threads = data::resolve_threads(options.threads);
  start = std::chrono::steady_clock::now();
  cpu_start = cpu_seconds();
  (void)tokenizer.encode_all(all_docs, threads);
  const double encode_n = seconds_since(start);
  const double encode_n_cpu = cpu_seconds() - cpu_start;

  const double mb = static_cast<double>(doc_bytes) / 1e6;
  fmt::print("corpora: {} distributions, {} documents, {:.1f} MB of files, {:.1f} MB of text; {} cores\n",
             names.size(), docs, static_cast<double>(file_bytes) / 1e6, mb, std::thread::hardware_concurrency());
  const auto row = [&](const std::string& phase, double wall, double cpu) {
    fmt::print("| {} | {:.2f} | {:.1f} | {:.2f} | {:.1f} |\n", phase, wall, mb / wall, cpu, mb / cpu);
  };
  fmt::print("| phase | wall s | MB/s (wall) | CPU s | MB per CPU-s |\n|---|---|---|---|---|\n");
  row("ingest (read, clean, fingerprint, split, store)", ingest_s, ingest_cpu);
  fmt::print("| tokenizer training ({} {}, {:.1f} MB sample; once per run) | {:.2f} | - | - | - |\n", options.kind,
             options.vocab_size, static_cast<double>(trained.sample_bytes) / 1e6, trained.seconds);
  row(fmt::format("tokenize into shards ({} threads, {} tokens, {:.3f} tokens/byte)", threads, tokens,
                  static_cast<double>(tokens) / static_cast<double>(doc_bytes)),
      tokenize_s, tokenize_cpu);
  row("**ingest + tokenize overall**", ingest_s + tokenize_s, ingest_cpu + tokenize_cpu);
  row("encode only, 1 thread", encode_1, encode_1_cpu);
  row(fmt::format("encode only, {} threads", threads), encode_n, encode_n_cpu);
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    fmt::print(stderr, "ingest_bench: {}\n", e.what());
    return exit_code_for(e);
  }
}
