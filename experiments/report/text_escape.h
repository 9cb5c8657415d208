// Escaping for the report's three text formats, so that run and distribution names (which may hold quotes, '<',
// '&', newlines, control characters, invalid UTF-8 or any script) can never break the HTML, the SVG or a
// Markdown table, and always read back as the name the user chose.
#pragma once

#include <string>
#include <string_view>

namespace grove::experiments::report {

// Valid UTF-8: each invalid byte becomes U+FFFD; C0 control characters other than tab and newline (illegal in
// XML) and DEL become U+FFFD too.
std::string sanitize_utf8(std::string_view text);

// Text for an HTML/SVG text node or a quoted attribute value: & < > " ' as character references, newlines kept.
std::string escape_xml(std::string_view text);

// One-line text for labels (SVG text, table cells): newlines and tabs become a space, then escape_xml.
std::string escape_xml_line(std::string_view text);

// Text for one Markdown table cell or inline position: Markdown punctuation and HTML-significant characters are
// backslash-escaped or written as references, newlines become "<br>" so a cell stays on one table row.
std::string escape_markdown(std::string_view text);

// Shortens text to at most `max_chars` code points, ending in "…" when cut (labels with limited room).
std::string ellipsize(std::string_view text, size_t max_chars);

// Number of code points (an estimate of rendered width for layout).
size_t code_points(std::string_view text);

}  // namespace grove::experiments::report
