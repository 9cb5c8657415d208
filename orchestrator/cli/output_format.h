// How query commands print results: one Table (named columns, rows of typed values) rendered as an aligned text
// table that fits a terminal width, as JSON (an array of objects, keys in column order) or as RFC 4180 CSV.
// Text is printed verbatim in JSON and CSV. In tables a newline inside a value starts a new line within the cell,
// other control characters are shown escaped (\t, \xNN) so they cannot break the layout or the terminal.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace grove::cli {

enum class OutputFormat { kTable, kJson, kCsv };
// "table" | "json" | "csv"; anything else is a ConfigError naming the value and the choices.
OutputFormat parse_output_format(std::string_view text);

inline constexpr int kTerminalWidth = 100;

// A missing value (null in JSON, an empty CSV field, "-" in tables), an integer, a real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// What a too-long text cell does in a table: wrap onto more lines (names, paths: nothing is lost), or end in "…"
// (free text such as reasons and messages, where the first line says enough).
enum class Overflow { kWrap, kTruncate };

// Where a column appears: everywhere, only in the human table (a compact summary such as "40/100"), or only in
// JSON and CSV (fields too wide for a 100-column table, such as paths and fingerprints).
enum class Show { kAll, kTableOnly, kDataOnly };

struct Column {
  std::string name;
  Overflow overflow = Overflow::kWrap;
  int min_width = 8;  // the table never narrows the column below this (timestamps: 20)
  Show show = Show::kAll;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns);
  // A row of exactly one value per column (throws std::invalid_argument otherwise: a caller bug).
  void add_row(std::vector<Value> row);
  const std::vector<Column>& columns() const { return columns_; }
  const std::vector<std::vector<Value>>& rows() const { return rows_; }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Value>> rows_;
};

// Columns padded to a common width, numbers right-aligned, a dashed rule under the header; when the table is wider
// than `width`, the widest columns are narrowed (never below their min_width) and their text wrapped or truncated.
// Every line ends in '\n'. Data-only columns are left out.
std::string render_table(const Table& table, int width = kTerminalWidth);
// The rows as an array of objects whose keys follow the column order (table-only columns left out).
nlohmann::ordered_json table_to_json(const Table& table);
// Pretty-printed JSON (two-space indent, UTF-8 kept as is, invalid UTF-8 replaced) with a final newline.
std::string render_json(const nlohmann::ordered_json& json);
// RFC 4180: a header record, CRLF line ends, fields quoted when they hold a comma, quote, CR or LF (table-only
// columns left out).
std::string render_csv(const Table& table);
std::string render(const Table& table, OutputFormat format, int width = kTerminalWidth);

// Display width of UTF-8 text in terminal columns (East Asian wide characters count 2, combining marks 0).
int display_width(std::string_view text);

}  // namespace grove::cli
