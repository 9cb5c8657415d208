#include "data_streams/corpus_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.h"
#include "common/stop_flag.h"
#include "data_streams/compressed_file.h"
#include "data_streams/document_splitters.h"
#include "data_streams/text_cleaning.h"

namespace grove::data {
namespace {

constexpr size_t kBinaryProbeBytes = 64 * 1024;

}  // namespace

bool clean_document(const DistributionSpec& spec, std::string_view raw, std::string& out, CorpusStats& stats) {
  std::string text = spec.source == SourceKind::kFortune ? strip_terminal_formatting(raw) : std::string(raw);
  RepairedText repaired = repair_utf8(normalise_layout(text));
  const uint64_t chars = utf8_length(repaired.text);
  if (repaired.replaced > 0 &&
      static_cast<double>(repaired.replaced) > spec.max_invalid_fraction * static_cast<double>(chars)) {
    ++stats.skipped_invalid_utf8;
    return false;
  }
  if (chars < spec.min_chars || chars == 0) {
    ++stats.skipped_too_short;
    return false;
  }
  if (chars > spec.max_chars) {
    ++stats.skipped_too_long;
    return false;
  }
  if (repaired.replaced > 0) {
    ++stats.repaired;
    stats.replaced_sequences += repaired.replaced;
  }
  out = std::move(repaired.text);
  return true;
}

CorpusStats read_corpus(const DistributionSpec& spec, const std::vector<CorpusFile>& files,
                        const CleanDocumentSink& sink, ProgressMeter* progress) {
  CorpusStats stats;
  std::string cleaned;
  const auto stop_if_asked = [&] {  // a stop request ends the read; the caller's temporary folder goes with it
    if (stop_signal_number() != 0) throw stopped_error(fmt::format("ingesting distribution '{}'", spec.name));
  };
  for (const CorpusFile& file : files) {
    stop_if_asked();
    const std::string content = read_corpus_file(file.path);
    if (looks_binary(std::string_view(content).substr(0, kBinaryProbeBytes))) {
      throw DataError(fmt::format("{}: looks like a binary file (NUL or control bytes), expected UTF-8 text; "
                                  "remove it from `paths` or add it to `exclude`",
                                  file.path.string()));
    }
    // Control bytes are judged on the first 64 KiB; a NUL anywhere makes it binary (text never holds one). For a
    // .gz or .zst file the offset counts decompressed bytes.
    if (const size_t nul = content.find('\0'); nul != std::string::npos) {
      throw DataError(fmt::format("{}: a NUL byte at byte {} of {}: a binary file, expected UTF-8 text; remove it "
                                  "from `paths` or add it to `exclude`",
                                  file.path.string(), nul, content.size()));
    }
    const DocumentSink on_raw = [&](std::string_view raw) {
      stop_if_asked();
      if (!clean_document(spec, raw, cleaned, stats)) return;
      ++stats.docs;
      stats.doc_bytes += cleaned.size();
      sink(cleaned);
      if (stats.docs == 1 && stop_test_points_on()) stop_test_point("ingest:" + spec.name);
    };
    switch (spec.source) {
      case SourceKind::kText:
        if (spec.doc_per == DocPer::kFile) on_raw(content);
        else split_paragraphs(content, on_raw);
        break;
      case SourceKind::kFortune: split_fortunes(content, on_raw); break;
      case SourceKind::kJsonl: split_jsonl(content, spec.field, file.path, on_raw); break;
    }
    ++stats.files;
    stats.file_bytes += file.size;
    if (progress) progress->advance(file.size, fmt::format("{} docs", stats.docs));
  }
  stop_if_asked();
  if (stats.docs == 0) {
    throw DataError(fmt::format("distribution '{}': empty corpus: no documents kept from {} file(s) under {} "
                                "({} too short, {} too long, {} invalid UTF-8)",
                                spec.name, stats.files, fmt::join(spec.paths, ", "), stats.skipped_too_short,
                                stats.skipped_too_long, stats.skipped_invalid_utf8));
  }
  return stats;
}

}  // namespace grove::data
