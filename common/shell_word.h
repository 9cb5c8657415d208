// Quoting for commands Grove prints for the user to paste (hints such as "see `grove registry phases --run NAME`"):
// a run name or registry path with a space or a quote must come back from the shell as the same single word.
#pragma once

#include <string>
#include <string_view>

namespace grove {

// `text` as one word a POSIX shell reads back as itself: unchanged when it holds only characters no shell treats
// specially, otherwise in single quotes (a quote inside becomes '\'').
std::string shell_word(std::string_view text);

}  // namespace grove
