#include "registry/split.h"

#include "registry/enum_text.h"

namespace grove::registry {
namespace {

constexpr EnumText<Split, 2> kSplits{"split", {{{Split::kTrain, "train"}, {Split::kHoldout, "holdout"}}}};

}  // namespace

std::string_view to_text(Split split) { return kSplits.to_text(split); }
Split parse_split(std::string_view text) { return kSplits.from_text(text); }

}  // namespace grove::registry
