// Cleaning rules a user relies on: invalid UTF-8 is repaired and counted, fortune formatting is stripped, layout is
// normalised without touching inner whitespace, binary content is recognised.
#include "data_streams/text_cleaning.h"

#include <gtest/gtest.h>

namespace grove::data {
namespace {

TEST(TextCleaning, ValidUtf8IsUnchanged) {
  const std::string text = "Grüße, мир, 日本語, 🙂 and \xE2\x96\x81";
  const auto repaired = repair_utf8(text);
  EXPECT_EQ(repaired.text, text);
  EXPECT_EQ(repaired.replaced, 0u);
}

TEST(TextCleaning, EachInvalidSequenceBecomesOneReplacementCharacter) {
  // A stray continuation byte, a truncated 3-byte sequence, an overlong encoding of '/', a surrogate: each bad byte
  // with the continuation bytes after it becomes one U+FFFD, and the text around it is kept.
  const auto repaired = repair_utf8("a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xED\xA0\x80" "e");
  EXPECT_EQ(repaired.text, "a\uFFFD" "b\uFFFD" "c\uFFFD" "d\uFFFD" "e");
  EXPECT_EQ(repaired.replaced, 4u);
  EXPECT_EQ(repair_utf8("x\xFF").replaced, 1u);
}

TEST(TextCleaning, FortuneOverstrikeAndAnsiEscapesAreRemoved) {
  EXPECT_EQ(strip_terminal_formatting("B\bBo\bol\bld and _\bu_\bn"), "Bold and un");
  EXPECT_EQ(strip_terminal_formatting("\x1b[1mbold\x1b[0m \x1b[31;1mred\x1b[m"), "bold red");
  EXPECT_EQ(strip_terminal_formatting("caf\xC3\xA9\b\xC3\xA9"), "caf\xC3\xA9");  // a multi-byte character struck over
}

TEST(TextCleaning, LayoutNormalisationKeepsIndentation) {
  EXPECT_EQ(normalise_layout("\xEF\xBB\xBF\r\n\n  def f():\r\n      return 1\r\n\n  \t\n"),
            "  def f():\n      return 1");
  EXPECT_EQ(normalise_layout("a\rb"), "a\nb");
  EXPECT_EQ(normalise_layout(" \n \n"), "");
}

TEST(TextCleaning, CountsCodePoints) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("日本語🙂"), 4u);
}

TEST(TextCleaning, RecognisesBinaryContent) {
  EXPECT_TRUE(looks_binary(std::string("PK\x03\x04\0\0", 6)));
  EXPECT_TRUE(looks_binary("\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10 ab"));
  EXPECT_FALSE(looks_binary("plain text\twith tabs\nand lines\n"));
  EXPECT_FALSE(looks_binary("Bo\bold \x1b[1m"));
}

}  // namespace
}  // namespace grove::data
