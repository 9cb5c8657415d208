#include "data_streams/document_splitters.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/errors.h"

namespace grove::data {
namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

// Calls `on_line(line, begin_offset)` for each line (without its '\n').
template <typename F>
void for_each_line(std::string_view text, F&& on_line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    on_line(text.substr(start, end - start), start);
    start = end + 1;
  }
}

}  // namespace

void split_paragraphs(std::string_view text, const DocumentSink& sink) {
  size_t begin = std::string_view::npos, end = 0;
  for_each_line(text, [&](std::string_view line, size_t offset) {
    if (is_blank(line)) {
      if (begin != std::string_view::npos) sink(text.substr(begin, end - begin));
      begin = std::string_view::npos;
    } else {
      if (begin == std::string_view::npos) begin = offset;
      end = offset + line.size();
    }
  });
  if (begin != std::string_view::npos) sink(text.substr(begin, end - begin));
}

void split_fortunes(std::string_view text, const DocumentSink& sink) {
  size_t begin = 0;
  for_each_line(text, [&](std::string_view line, size_t offset) {
    const size_t last = line.find_last_not_of(" \t\r");
    const std::string_view trimmed = last == std::string_view::npos ? std::string_view() : line.substr(0, last + 1);
    if (trimmed == "%") {
      if (offset > begin) sink(text.substr(begin, offset - begin));
      begin = offset + line.size() + 1;
    }
  });
  if (begin < text.size()) sink(text.substr(begin));
}

void split_jsonl(std::string_view text, const std::string& field, const std::filesystem::path& file,
                 const DocumentSink& sink) {
  size_t line_number = 0;
  for_each_line(text, [&](std::string_view line, size_t) {
    ++line_number;
    if (is_blank(line)) return;
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw DataError(fmt::format("{}:{}: malformed JSON line: {}", file.string(), line_number, e.what()));
    }
    if (!object.is_object()) {
      throw DataError(fmt::format("{}:{}: expected a JSON object per line, got {}", file.string(), line_number,
                                  object.type_name()));
    }
    const auto value = object.find(field);
    if (value == object.end()) {
      throw DataError(fmt::format("{}:{}: the object has no field '{}' (set `field` in the spec)", file.string(),
                                  line_number, field));
    }
    if (!value->is_string()) {
      throw DataError(fmt::format("{}:{}: field '{}' is {}, expected a string", file.string(), line_number, field,
                                  value->type_name()));
    }
    sink(value->get_ref<const std::string&>());
  });
}

}  // namespace grove::data
