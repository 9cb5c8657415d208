#include "data_streams/ingest.h"

#include <fmt/format.h>

#include <chrono>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "data_streams/corpus_files.h"
#include "data_streams/data_layout.h"
#include "data_streams/document_store.h"
#include "data_streams/fingerprint.h"
#include "data_streams/split.h"
#include "data_streams/tokenizer_registry.h"
#include "registry/distributions.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

struct ScannedCorpus {
  CorpusStats stats;
  std::string fingerprint;
  uint64_t fingerprint_value = 0;
  uint64_t holdout_docs = 0;
};

ScannedCorpus scan_into(const DistributionSpec& spec, const fs::path& folder, const IngestOptions& ingest_options) {
  const auto files = list_corpus_files(spec, ingest_options.allowed_roots);
  uint64_t total = 0;
  for (const auto& file : files) total += file.size;
  ProgressOptions options;
  options.label = fmt::format("ingest {}", spec.name);
  options.total = total;
  options.unit = ProgressUnit::kBytes;
  options.mode = ingest_options.progress;
  ProgressMeter progress(options);

  DocumentStoreWriter writer(folder);
  FingerprintBuilder fingerprint(spec.holdout, spec.split_seed);
  ScannedCorpus scanned;
  scanned.stats = read_corpus(
      spec, files,
      [&](std::string_view doc) {
        fingerprint.add(doc);
        writer.add(doc, is_holdout(doc, spec.holdout, spec.split_seed));
      },
      &progress);
  writer.finish(fingerprint.value());
  scanned.fingerprint = fingerprint.hex();
  scanned.fingerprint_value = fingerprint.value();
  scanned.holdout_docs = writer.holdout_docs();
  progress.finish(fmt::format("{} documents, {} skipped, {} repaired", scanned.stats.docs, scanned.stats.skipped(),
                              scanned.stats.repaired));
  return scanned;
}

std::optional<registry::TokenizerRow> chosen_tokenizer(registry::Database& db, const IngestOptions& options) {
  if (!options.tokenize) return std::nullopt;
  if (options.tokenizer_hash) return require_tokenizer(db, *options.tokenizer_hash);
  return newest_tokenizer(db);
}

}  // namespace

std::string_view to_text(IngestOutcome outcome) {
  switch (outcome) {
    case IngestOutcome::kIngested: return "ingested";
    case IngestOutcome::kReplaced: return "replaced";
    case IngestOutcome::kUnchanged: return "unchanged";
  }
  return "?";
}

std::string IngestReport::summary() const {
  std::string text = fmt::format(
      "{} version {} ({}): fingerprint {}\n"
      "  documents: {} ({} train, {} holdout), {} in {} files\n"
      "  skipped: {} ({} too short, {} too long, {} invalid UTF-8); repaired: {} ({} invalid sequences)",
      name, version, to_text(outcome), fingerprint, stats.docs,
      stats.docs - holdout_docs, holdout_docs, format_bytes(static_cast<double>(stats.doc_bytes)), stats.files,
      stats.skipped(), stats.skipped_too_short, stats.skipped_too_long, stats.skipped_invalid_utf8, stats.repaired,
      stats.replaced_sequences);
  if (tokens && tokenizer_hash) {
    const double per_byte = static_cast<double>(tokens->train_tokens + tokens->holdout_tokens) /
                            static_cast<double>(std::max<int64_t>(1, tokens->bytes));
    text += fmt::format("\n  tokens ({}tokenizer {}): {} train, {} holdout, {:.3f} tokens per byte",
                        tokens->already_done ? "already there, " : "", *tokenizer_hash, tokens->train_tokens,
                        tokens->holdout_tokens, per_byte);
  } else if (!tokenize_asked) {
    text += "\n  tokens: not tokenized by this ingest (not asked to)";
  } else {
    text += "\n  tokens: not tokenized (no tokenizer in the registry yet: `grove tokenizer train`)";
  }
  if (seconds > 0) {
    text += fmt::format("\n  time: {:.1f} s, {}/s", seconds,
                        format_bytes(static_cast<double>(stats.file_bytes) / seconds));
  }
  return text;
}

IngestReport ingest_distribution(registry::Database& db, const DistributionSpec& spec, const IngestOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  validate_distribution_spec(spec, fmt::format("distribution '{}'", spec.name));
  const DataLayout layout = DataLayout::for_registry(db);
  // Resolve the tokenizer first, and load it: a bad --tokenizer, or a damaged model file, should fail before any
  // reading, and before the distribution is registered (an exit 2 that registered it anyway misled).
  const auto tokenizer = chosen_tokenizer(db, options);
  if (tokenizer) load_registered_tokenizer(db, *tokenizer);

  TempFolder temp = layout.make_temp_folder("ingest-" + spec.name);
  const ScannedCorpus scanned = scan_into(spec, temp.path(), options);
  if (options.require_both_splits && (scanned.holdout_docs == 0 || scanned.holdout_docs == scanned.stats.docs)) {
    throw DataError(fmt::format(
        "distribution '{}': {} document(s) kept, {} in the holdout (holdout {}): a phase needs at least one document "
        "to train on and one to evaluate on; add documents (or, for an empty {} side, change holdout or split_seed)",
        spec.name, scanned.stats.docs, scanned.holdout_docs, spec.holdout,
        scanned.holdout_docs == 0 ? "holdout" : "train"));
  }
  layout.limit_permissions(temp.path());

  IngestReport report;
  report.name = spec.name;
  report.tokenize_asked = options.tokenize;
  report.fingerprint = scanned.fingerprint;
  report.stats = scanned.stats;
  report.holdout_docs = scanned.holdout_docs;
  const auto current = registry::find_current_distribution(db, spec.name);
  if (current && current->fingerprint == scanned.fingerprint) {
    report.outcome = IngestOutcome::kUnchanged;
    report.distribution_id = current->id;
    report.version = current->version;
  } else {
    if (current && !options.replace) {
      throw DataError(fmt::format(
          "distribution '{}' already exists (version {}, fingerprint {}) with different content (fingerprint {}); {}",
          spec.name, current->version, current->fingerprint, scanned.fingerprint,
          !options.how_to_replace.empty()
              ? options.how_to_replace
              : fmt::format("pass --replace to register the new content as version {} (phases that used version {} "
                            "keep its shards)",
                            current->version + 1, current->version)));
    }
    const fs::path final_dir = layout.distribution_dir(spec.name, scanned.fingerprint);
    bool reuse = false;
    if (fs::exists(final_dir)) {
      // Same name and fingerprint were stored before (a retired version, or a run that failed before registering):
      // the content is identical by construction, keep it if it is intact.
      try {
        reuse = DocumentStore::open(final_dir).fingerprint() == scanned.fingerprint_value;
      } catch (const DataError&) {
        reuse = false;
      }
    }
    if (!reuse) {
      fs::create_directories(final_dir.parent_path());
      publish_folder(temp.path(), final_dir);
      temp.release();
    }
    registry::NewDistribution row;
    row.name = spec.name;
    row.spec_yaml = to_yaml(spec);
    row.fingerprint = scanned.fingerprint;
    row.source_kind = std::string(to_text(spec.source));
    row.n_docs = static_cast<int64_t>(scanned.stats.docs);
    row.n_bytes = static_cast<int64_t>(scanned.stats.doc_bytes);
    row.n_docs_skipped = static_cast<int64_t>(scanned.stats.skipped());
    row.n_docs_repaired = static_cast<int64_t>(scanned.stats.repaired);
    row.shard_dir = layout.to_stored(final_dir);
    registry::Transaction transaction(db);
    report.distribution_id = current ? registry::replace_distribution(db, row) : registry::insert_distribution(db, row);
    transaction.commit();
    report.outcome = current ? IngestOutcome::kReplaced : IngestOutcome::kIngested;
    report.version = registry::find_distribution(db, report.distribution_id)->version;
  }
  if (tokenizer) {
    report.tokenizer_hash = tokenizer->hash;
    report.tokens = ensure_tokenized(db, report.distribution_id, tokenizer->id, options.threads, options.progress);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace grove::data
