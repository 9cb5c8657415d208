// Reads a corpus into clean documents: each file is decompressed, checked for binary content, cut into raw
// documents by its source kind, cleaned (fortune formatting stripped, newlines normalised, UTF-8 repaired) and
// filtered (invalid-UTF-8 share, min/max length), with a count for every document repaired or skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/progress.h"
#include "data_streams/corpus_files.h"
#include "data_streams/corpus_spec.h"

namespace grove::data {

struct CorpusStats {
  uint64_t files = 0;
  uint64_t file_bytes = 0;            // on disk (compressed where compressed)
  uint64_t docs = 0;                  // kept
  uint64_t doc_bytes = 0;             // UTF-8 bytes of the kept, cleaned documents
  uint64_t skipped_invalid_utf8 = 0;  // too much invalid UTF-8 (above max_invalid_fraction)
  uint64_t skipped_too_short = 0;     // fewer than min_chars (documents empty after cleaning included)
  uint64_t skipped_too_long = 0;      // more than max_chars
  uint64_t repaired = 0;              // kept, with invalid UTF-8 replaced by U+FFFD
  uint64_t replaced_sequences = 0;    // invalid sequences replaced in kept documents

  uint64_t skipped() const { return skipped_invalid_utf8 + skipped_too_short + skipped_too_long; }
};

using CleanDocumentSink = std::function<void(std::string_view document)>;

// Cleans one raw document by the spec's rules: the cleaned text, or nothing (and a counted reason) when skipped.
// Exposed so tests and the splitters agree on exactly one definition of a "normalised document".
bool clean_document(const DistributionSpec& spec, std::string_view raw, std::string& out, CorpusStats& stats);

// Reads every file in order and passes each kept document to `sink`. `progress` (optional) advances by file bytes.
// Throws DataError naming the file for an unreadable, binary, truncated or malformed file, and naming the spec's
// paths when no document is left; InterruptedError at the next document once SIGTERM/SIGINT asked to stop
// (common/stop_flag.h).
CorpusStats read_corpus(const DistributionSpec& spec, const std::vector<CorpusFile>& files,
                        const CleanDocumentSink& sink, ProgressMeter* progress = nullptr);

}  // namespace grove::data
