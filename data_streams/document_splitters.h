// Cutting one corpus file's text into raw documents, per source kind: blank-line paragraphs (text), `%` lines
// (fortune), one JSON object per line with a string field (jsonl). Raw: cleaning and filtering come after.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace grove::data {

using DocumentSink = std::function<void(std::string_view document)>;

// Paragraphs separated by one or more blank (whitespace-only) lines.
void split_paragraphs(std::string_view text, const DocumentSink& sink);

// Fortune files: documents separated by lines holding only '%' (a trailing CR or spaces are tolerated).
void split_fortunes(std::string_view text, const DocumentSink& sink);

// JSON Lines: each non-blank line an object whose `field` is a string. A malformed line, a line that is not an
// object, or a missing or non-string field is a DataError naming `file`, the line number and what was expected.
void split_jsonl(std::string_view text, const std::string& field, const std::filesystem::path& file,
                 const DocumentSink& sink);

}  // namespace grove::data
