// Ingesting a distribution: read and clean the corpus, fingerprint it, split it, store the documents under the
// registry's data folder and register the distribution, then tokenize it when the registry has a tokenizer.
// Unchanged content (same fingerprint as the current version) is a no-op; changed content under an existing name
// needs `replace`, which retires the old row and registers version + 1 (the old row and its files stay, so phases
// that used them are untouched). Files are written to a temporary folder and renamed into place before the
// registry rows are written in one transaction, so a failure registers nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/progress.h"
#include "data_streams/corpus_reader.h"
#include "data_streams/corpus_spec.h"
#include "data_streams/tokenize.h"
#include "registry/database.h"

namespace grove::data {

struct IngestOptions {
  bool replace = false;
  // The end of the message when new content meets an existing name and `replace` is off; empty: "pass --replace".
  std::string how_to_replace;
  bool tokenize = true;                       // tokenize with a registered tokenizer when there is one
  std::optional<std::string> tokenizer_hash;  // which one (default: the newest)
  unsigned threads = 0;                       // encoding threads (0: all cores)
  ProgressOptions::Mode progress = ProgressOptions::Mode::kAuto;
  // Folders the corpus files must lie in, symlinks resolved (canonical paths; empty: anywhere). The scheduler
  // limits an inbox item to its own folder (and the roots its operator allows).
  std::vector<std::filesystem::path> allowed_roots;
  // Refuse a corpus whose split leaves the train or the holdout side without a document (a phase trains on one and
  // evaluates on the other, so such a distribution could never run). Checked before anything is registered.
  bool require_both_splits = false;
};

enum class IngestOutcome { kIngested, kReplaced, kUnchanged };
std::string_view to_text(IngestOutcome outcome);  // "ingested" | "replaced" | "unchanged"

struct IngestReport {
  std::string name;
  IngestOutcome outcome = IngestOutcome::kIngested;
  int64_t distribution_id = 0;
  int64_t version = 0;
  std::string fingerprint;
  CorpusStats stats;              // of this read (also when unchanged)
  uint64_t holdout_docs = 0;
  bool tokenize_asked = true;     // IngestOptions::tokenize: false when the caller tokenizes later, or never
  std::optional<std::string> tokenizer_hash;
  std::optional<TokenizeReport> tokens;
  double seconds = 0;

  // One paragraph for the user: documents, bytes, skipped/repaired, tokens and tokens per byte.
  std::string summary() const;
};

IngestReport ingest_distribution(registry::Database& db, const DistributionSpec& spec,
                                 const IngestOptions& options = {});

}  // namespace grove::data
