// shell_word: each word goes through a real /bin/sh and must come back byte for byte as one argument.
#include "common/shell_word.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace grove {
namespace {

// What /bin/sh makes of `word`, given as the one argument of printf '%s|'.
std::string through_the_shell(const std::string& word) {
  const std::string command = "printf '%s|' " + word;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("popen failed for: " + command);
  std::string out;
  std::array<char, 256> buffer{};
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0;) out.append(buffer.data(), n);
  return out;
}

TEST(ShellWord, PlainWordsStayAndOthersAreSingleQuoted) {
  EXPECT_EQ(shell_word("run-1_a.b"), "run-1_a.b");
  EXPECT_EQ(shell_word("/tmp/grove.db"), "/tmp/grove.db");
  EXPECT_EQ(shell_word("my run \u00fc"), "'my run \u00fc'");
  EXPECT_EQ(shell_word("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_word(""), "''");
}

TEST(ShellWord, EveryWordReadsBackAsItselfThroughSh) {
  // One trailing '|' per argument: a word the shell split in two, or dropped, would show as two or none.
  for (const std::string word : {"run-1_a.b", "/tmp/reg dir/r.db", "my run \u00fc", "it's", "$HOME;echo injected",
                                 "a\"b", "`echo hi`", "tab\there", "new\nline", "*", "~", "", "back\\slash", "!x"}) {
    EXPECT_EQ(through_the_shell(shell_word(word)), word + "|") << word;
  }
}

}  // namespace
}  // namespace grove
