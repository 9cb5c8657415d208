// Turning raw corpus bytes into clean document text: UTF-8 repair with counts, fortune over-striking and ANSI
// escape removal, newline normalisation, character counting and a binary-file check. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace grove::data {

struct RepairedText {
  std::string text;
  uint64_t replaced = 0;  // invalid UTF-8 sequences replaced by U+FFFD
};

// Valid UTF-8 is returned unchanged; each invalid byte, together with the continuation bytes right after it, becomes
// one U+FFFD (EF BF BD).
RepairedText repair_utf8(std::string_view bytes);

// Removes backspace over-striking ("X\bX" bold, "_\bX" underline: the character before each backspace goes)
// and ANSI escape sequences (CSI "ESC [ ... final", and two-byte "ESC X"), as found in fortune files.
std::string strip_terminal_formatting(std::string_view text);

// CRLF and lone CR become LF; leading blank lines and all trailing whitespace are removed; a UTF-8 BOM at the start
// is dropped. Inner whitespace is kept exactly (indentation matters in code and poems).
std::string normalise_layout(std::string_view text);

// Code points in valid UTF-8 (continuation bytes are not counted).
uint64_t utf8_length(std::string_view text);

// True when `head` (the first bytes of a file) holds a NUL byte or is mostly control bytes: not a text file.
bool looks_binary(std::string_view head);

}  // namespace grove::data
