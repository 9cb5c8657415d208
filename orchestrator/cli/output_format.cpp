#include "orchestrator/cli/output_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <numeric>
#include <stdexcept>

#include "common/errors.h"

namespace grove::cli {
namespace {

// One UTF-8 code point starting at text[i]: its value and byte length (invalid bytes decode as themselves, length 1).
std::pair<char32_t, size_t> decode(std::string_view text, size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 1;
  if (i + length > text.size()) length = 1;
  if (length == 1) return {byte, 1};
  char32_t value = byte & (0xFF >> (length + 1));
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return {byte, 1};
    value = (value << 6) | (next & 0x3F);
  }
  return {value, length};
}

int code_point_width(char32_t c) {
  if ((c >= 0x300 && c <= 0x36F) || (c >= 0x200B && c <= 0x200F) || (c >= 0xFE00 && c <= 0xFE0F)) return 0;
  const bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
                    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
                    (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
  return wide ? 2 : 1;
}

// Control characters other than newline shown as escapes, so a table cell cannot move the cursor.
std::string escape_controls(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n' || (byte >= 0x20 && byte != 0x7F)) {
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string_view::npos; start = end + 1) {
    lines.emplace_back(text.substr(start, end - start));
  }
  lines.emplace_back(text.substr(start));
  return lines;
}

// Cuts `line` into pieces of at most `width` columns, at a space when one is in the second half of a piece.
std::vector<std::string> wrap(std::string_view line, int width) {
  std::vector<std::string> pieces;
  while (display_width(line) > width) {
    size_t cut = 0;
    size_t last_space = 0;
    int used = 0;
    while (cut < line.size()) {
      const auto [c, length] = decode(line, cut);
      const int w = code_point_width(c);
      if (used + w > width) break;
      used += w;
      cut += length;
      if (c == ' ' && used > width / 2) last_space = cut;
    }
    if (cut == 0) cut = decode(line, 0).second;  // a character wider than the column still advances
    if (last_space > 0 && cut < line.size()) cut = last_space;
    pieces.emplace_back(line.substr(0, cut));
    line.remove_prefix(cut);
  }
  pieces.emplace_back(line);
  return pieces;
}

// The longest prefix of `line` that fits in `width - 1` columns, followed by "…".
std::string truncate(std::string_view line, int width) {
  size_t cut = 0;
  int used = 0;
  while (cut < line.size()) {
    const auto [c, length] = decode(line, cut);
    if (used + code_point_width(c) > width - 1) break;
    used += code_point_width(c);
    cut += length;
  }
  return std::string(line.substr(0, cut)) + "…";
}

std::string table_text(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "-";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{:.4f}", *d);
  return escape_controls(std::get<std::string>(value));
}

bool is_number(const Value& value) {
  return std::holds_alternative<int64_t>(value) || std::holds_alternative<double>(value);
}

// The lines a cell occupies at `width` columns.
std::vector<std::string> layout_cell(const std::string& text, int width, Overflow overflow) {
  std::vector<std::string> lines;
  const std::vector<std::string> logical = split_lines(text);
  if (overflow == Overflow::kTruncate) {
    const bool more = logical.size() > 1;
    const std::string& first = logical.front();
    lines.push_back(display_width(first) > width || more ? truncate(first, width) : first);
    return lines;
  }
  for (const std::string& line : logical) {
    for (std::string& piece : wrap(line, width)) lines.push_back(std::move(piece));
  }
  return lines;
}

// Narrows the widest narrowable column, one column at a time, until the table fits `total` or none can shrink.
// Truncating columns give way first (they are meant to lose text), then every column down to its floor.
void fit_widths(std::vector<int>& widths, const std::vector<int>& floors, const std::vector<bool>& truncating,
                int total) {
  const int gaps = 2 * static_cast<int>(widths.empty() ? 0 : widths.size() - 1);
  for (const bool only_truncating : {true, false}) {
    for (;;) {
      if (std::accumulate(widths.begin(), widths.end(), 0) + gaps <= total) return;
      size_t widest = widths.size();
      for (size_t c = 0; c < widths.size(); ++c) {
        if (only_truncating && !truncating[c]) continue;
        if (widths[c] > floors[c] && (widest == widths.size() || widths[c] > widths[widest])) widest = c;
      }
      if (widest == widths.size()) break;
      --widths[widest];
    }
  }
}

// The indices of the columns a format shows.
std::vector<size_t> shown_columns(const Table& table, Show hidden) {
  std::vector<size_t> shown;
  for (size_t c = 0; c < table.columns().size(); ++c) {
    if (table.columns()[c].show != hidden) shown.push_back(c);
  }
  return shown;
}

void append_padded(std::string& out, const std::string& text, int width, bool right) {
  const int pad = std::max(0, width - display_width(text));
  if (right) out.append(static_cast<size_t>(pad), ' ');
  out += text;
  if (!right) out.append(static_cast<size_t>(pad), ' ');
}

void append_line(std::string& out, const std::vector<std::string>& cells, const std::vector<int>& widths,
                 const std::vector<bool>& right) {
  std::string line;
  for (size_t c = 0; c < cells.size(); ++c) {
    if (c > 0) line += "  ";
    append_padded(line, cells[c], widths[c], right[c]);
  }
  line.erase(line.find_last_not_of(' ') + 1);
  out += line;
  out += '\n';
}

std::string csv_field(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  const std::string& text = std::get<std::string>(value);
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

OutputFormat parse_output_format(std::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "csv") return OutputFormat::kCsv;
  throw ConfigError(fmt::format("--format: '{}' is not a format (expected table, json or csv)", text));
}

int display_width(std::string_view text) {
  int width = 0;
  for (size_t i = 0; i < text.size();) {
    const auto [c, length] = decode(text, i);
    width += code_point_width(c);
    i += length;
  }
  return width;
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<Value> row) {
  if (row.size() != columns_.size()) {
    throw std::invalid_argument(fmt::format("Table::add_row: {} values for {} columns", row.size(), columns_.size()));
  }
  rows_.push_back(std::move(row));
}

std::string render_table(const Table& table, int width) {
  const std::vector<size_t> shown = shown_columns(table, Show::kDataOnly);
  const size_t n = shown.size();
  std::vector<Column> columns;
  for (size_t c : shown) columns.push_back(table.columns()[c]);
  std::vector<std::vector<std::string>> texts;
  std::vector<int> widths(n, 0);
  std::vector<int> floors(n, 0);
  std::vector<bool> right(n, false);
  for (size_t c = 0; c < n; ++c) widths[c] = display_width(columns[c].name);
  for (const auto& row : table.rows()) {
    std::vector<std::string>& cells = texts.emplace_back();
    for (size_t c = 0; c < n; ++c) {
      const Value& value = row[shown[c]];
      cells.push_back(table_text(value));
      for (const std::string& line : split_lines(cells.back())) widths[c] = std::max(widths[c], display_width(line));
      if (is_number(value)) right[c] = true;
    }
  }
  std::vector<bool> truncating(n, false);
  for (size_t c = 0; c < n; ++c) {
    floors[c] = std::min(widths[c], std::max(columns[c].min_width, 2));
    truncating[c] = columns[c].overflow == Overflow::kTruncate;
  }
  fit_widths(widths, floors, truncating, width);

  std::string out;
  auto append_row = [&](const std::vector<std::string>& cells, bool header) {
    std::vector<std::vector<std::string>> laid(n);
    size_t height = 1;
    for (size_t c = 0; c < n; ++c) {
      laid[c] = layout_cell(cells[c], widths[c], header ? Overflow::kWrap : columns[c].overflow);
      height = std::max(height, laid[c].size());
    }
    for (size_t line = 0; line < height; ++line) {
      std::vector<std::string> parts(n);
      for (size_t c = 0; c < n; ++c) parts[c] = line < laid[c].size() ? laid[c][line] : "";
      append_line(out, parts, widths, right);
    }
  };
  std::vector<std::string> header;
  for (const Column& column : columns) header.push_back(column.name);
  append_row(header, true);
  std::vector<std::string> rule;
  for (int w : widths) rule.emplace_back(static_cast<size_t>(w), '-');
  append_line(out, rule, widths, std::vector<bool>(n, false));
  for (const auto& cells : texts) append_row(cells, false);
  return out;
}

nlohmann::ordered_json table_to_json(const Table& table) {
  const std::vector<size_t> shown = shown_columns(table, Show::kTableOnly);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& row : table.rows()) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (size_t c : shown) {
      const std::string& key = table.columns()[c].name;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              object[key] = nullptr;
            } else {
              object[key] = v;
            }
          },
          row[c]);
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

std::string render_json(const nlohmann::ordered_json& json) {
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string render_csv(const Table& table) {
  const std::vector<size_t> shown = shown_columns(table, Show::kTableOnly);
  std::string out;
  auto append_record = [&](const std::vector<Value>& values) {
    for (size_t k = 0; k < shown.size(); ++k) {
      if (k > 0) out += ',';
      out += csv_field(values[shown[k]]);
    }
    out += "\r\n";
  };
  std::vector<Value> header;
  for (const Column& column : table.columns()) header.emplace_back(column.name);
  append_record(header);
  for (const auto& row : table.rows()) append_record(row);
  return out;
}

std::string render(const Table& table, OutputFormat format, int width) {
  switch (format) {
    case OutputFormat::kTable:
      return render_table(table, width);
    case OutputFormat::kJson:
      return render_json(table_to_json(table));
    case OutputFormat::kCsv:
      return render_csv(table);
  }
  return {};
}

}  // namespace grove::cli
