#include "common/shell_word.h"

#include <algorithm>
#include <cctype>

namespace grove {

std::string shell_word(std::string_view text) {
  constexpr std::string_view kPlainPunctuation = "_-./:=@%+,";
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kPlainPunctuation.find(c) != std::string_view::npos;
  });
  if (plain) return std::string(text);
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace grove
