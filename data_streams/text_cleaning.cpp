#include "data_streams/text_cleaning.h"

namespace grove::data {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at `i`, or 0 when the bytes there are not one (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
size_t valid_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

RepairedText repair_utf8(std::string_view bytes) {
  RepairedText result;
  size_t i = 0;
  // Fast path: find the first invalid byte; most documents have none and are copied once.
  while (i < bytes.size()) {
    const size_t length = valid_sequence_length(bytes, i);
    if (length == 0) break;
    i += length;
  }
  result.text.assign(bytes.substr(0, i));
  while (i < bytes.size()) {
    const size_t length = valid_sequence_length(bytes, i);
    if (length > 0) {
      result.text.append(bytes.substr(i, length));
      i += length;
      continue;
    }
    // One replacement per maximal invalid subsequence: the bad lead byte and the continuation bytes after it.
    ++i;
    while (i < bytes.size() && is_continuation(static_cast<unsigned char>(bytes[i]))) ++i;
    result.text.append(kReplacement);
    ++result.replaced;
  }
  return result;
}

std::string strip_terminal_formatting(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\b') {
      // Drop the whole (possibly multi-byte) character before the backspace.
      while (!out.empty() && is_continuation(static_cast<unsigned char>(out.back()))) out.pop_back();
      if (!out.empty()) out.pop_back();
      continue;
    }
    if (c == '\x1b') {
      if (i + 1 < text.size() && text[i + 1] == '[') {
        size_t j = i + 2;
        while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7E)) ++j;
        i = j;  // skips the final byte too (or runs to the end of a cut-off sequence)
      } else if (i + 1 < text.size()) {
        ++i;
      }
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string normalise_layout(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\v'; };
  while (!out.empty() && is_space(out.back())) out.pop_back();
  // Leading blank lines go; the indentation of the first non-blank line stays.
  size_t start = 0;
  for (size_t i = 0; i < out.size() && is_space(out[i]); ++i) {
    if (out[i] == '\n') start = i + 1;
  }
  return start == 0 ? out : out.substr(start);
}

uint64_t utf8_length(std::string_view text) {
  uint64_t count = 0;
  for (char c : text) count += is_continuation(static_cast<unsigned char>(c)) ? 0 : 1;
  return count;
}

bool looks_binary(std::string_view head) {
  if (head.empty()) return false;
  size_t control = 0;
  for (char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) return true;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\b' && c != '\x1b' && c != '\v') {
      ++control;
    }
  }
  return control * 10 > head.size();  // more than 10% control bytes
}

}  // namespace grove::data
