// The table/JSON/CSV printer other query commands reuse: alignment, the 100-column fit, ellipsis, escaping,
// RFC 4180 quoting.
#include "orchestrator/cli/output_format.h"

#include <gtest/gtest.h>

#include "common/errors.h"

namespace grove::cli {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

TEST(OutputFormat, TableAlignsColumnsAndRightAlignsNumbers) {
  Table table({{"name"}, {"bpb"}});
  table.add_row({std::string("en"), 2.0});
  table.add_row({std::string("german"), 12.25});
  table.add_row({std::string("none"), std::monostate{}});
  const auto lines = lines_of(render_table(table));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "name        bpb");
  EXPECT_EQ(lines[1], "------  -------");
  EXPECT_EQ(lines[2], "en       2.0000");
  EXPECT_EQ(lines[3], "german  12.2500");
  EXPECT_EQ(lines[4], "none          -");
}

TEST(OutputFormat, WideTablesAreNarrowedToTheWidthAndWrapWithoutLosingText) {
  const std::string long_name(150, 'x');
  Table table({{"name"}, {"reason", Overflow::kTruncate}, {"n"}});
  table.add_row({long_name, std::string(80, 'r') + "\nsecond line", int64_t{7}});
  const std::string out = render_table(table, 100);
  std::string joined;
  for (const auto& line : lines_of(out)) {
    EXPECT_LE(display_width(line), 100) << line;
    joined += line.substr(0, line.find(' '));
  }
  // The wrapped name is all there, in order; the truncated reason ends in an ellipsis.
  EXPECT_NE(joined.find(long_name), std::string::npos);
  EXPECT_NE(out.find("…"), std::string::npos);
  EXPECT_EQ(out.find("second line"), std::string::npos);
}

TEST(OutputFormat, NewlinesStartLinesInTheCellAndControlsAreEscaped) {
  Table table({{"name"}, {"v"}});
  table.add_row({std::string("first\nsecond\tx\x1b[31m"), int64_t{1}});
  const auto lines = lines_of(render_table(table));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "first              1");
  EXPECT_EQ(lines[3], "second\\tx\\x1b[31m");
}

TEST(OutputFormat, WideCharactersCountTwoColumns) {
  EXPECT_EQ(display_width("abc"), 3);
  EXPECT_EQ(display_width("日本"), 4);
  EXPECT_EQ(display_width("Grüße"), 5);
  Table table({{"n"}, {"x"}});
  table.add_row({std::string("日本"), int64_t{1}});
  table.add_row({std::string("abcd"), int64_t{2}});
  const auto lines = lines_of(render_table(table));
  EXPECT_EQ(lines[2], "日本  1");
  EXPECT_EQ(lines[3], "abcd  2");
}

TEST(OutputFormat, CsvQuotesPerRfc4180WithCrlf) {
  Table table({{"name"}, {"n"}, {"x"}});
  table.add_row({std::string("a,b"), int64_t{1}, std::monostate{}});
  table.add_row({std::string("say \"hi\"\nbye"), int64_t{2}, 0.1});
  EXPECT_EQ(render_csv(table), "name,n,x\r\n\"a,b\",1,\r\n\"say \"\"hi\"\"\nbye\",2,0.1\r\n");
}

TEST(OutputFormat, JsonKeepsColumnOrderTypesAndNulls) {
  Table table({{"z"}, {"a"}, {"summary", Overflow::kWrap, 8, Show::kTableOnly}, {"path", Overflow::kWrap, 8, Show::kDataOnly}});
  table.add_row({std::string("ü"), 1.5, std::string("t"), std::monostate{}});
  const auto json = table_to_json(table);
  EXPECT_EQ(json.dump(), R"([{"z":"ü","a":1.5,"path":null}])");
  EXPECT_EQ(render_table(table).find("path"), std::string::npos);
  EXPECT_NE(render_table(table).find("summary"), std::string::npos);
}

TEST(OutputFormat, UnknownFormatIsAConfigErrorNamingIt) {
  EXPECT_EQ(parse_output_format("csv"), OutputFormat::kCsv);
  try {
    parse_output_format("xml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'xml'"), std::string::npos);
  }
  Table table({{"a"}});
  EXPECT_THROW(table.add_row({int64_t{1}, int64_t{2}}), std::invalid_argument);
}

}  // namespace
}  // namespace grove::cli
