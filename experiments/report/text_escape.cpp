#include "experiments/report/text_escape.h"

#include <cstdint>

namespace grove::experiments::report {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at text[i], or 0 when the bytes there are not one.
size_t utf8_length(std::string_view text, size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  uint32_t min_value = 0;
  if (b0 < 0x80) return 1;
  if ((b0 >> 5) == 0x6) {
    length = 2, min_value = 0x80;
  } else if ((b0 >> 4) == 0xE) {
    length = 3, min_value = 0x800;
  } else if ((b0 >> 3) == 0x1E) {
    length = 4, min_value = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  uint32_t value = b0 & (0x7Fu >> length);
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  const bool surrogate = value >= 0xD800 && value <= 0xDFFF;
  return (value < min_value || value > 0x10FFFF || surrogate) ? 0 : length;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_length(text, i);
    const auto byte = static_cast<unsigned char>(text[i]);
    if (length == 0) {
      out += kReplacement;
      ++i;
    } else if (length == 1 && ((byte < 0x20 && byte != '\t' && byte != '\n') || byte == 0x7F)) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string escape_xml(std::string_view text) {
  std::string out;
  for (char c : sanitize_utf8(text)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_xml_line(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return escape_xml(line);
}

std::string escape_markdown(std::string_view text) {
  std::string out;
  for (char c : sanitize_utf8(text)) {
    switch (c) {
      case '\n': out += "<br>"; break;
      case '\t': out += ' '; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '|': case '\\': case '`': case '*': case '_': case '[': case ']': case '#': case '~': case '!':
        out += '\\';
        out += c;
        break;
      default: out += c;
    }
  }
  return out;
}

size_t code_points(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string ellipsize(std::string_view text, size_t max_chars) {
  const std::string clean = sanitize_utf8(text);
  if (code_points(clean) <= max_chars || max_chars == 0) return clean;
  size_t kept = 0;
  size_t i = 0;
  while (i < clean.size() && kept + 1 < max_chars) {
    i += utf8_length(clean, i);
    ++kept;
  }
  return clean.substr(0, i) + "\xE2\x80\xA6";  // …
}

}  // namespace grove::experiments::report
