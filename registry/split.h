// The two halves of every distribution: `train` shards feed training, `holdout` shards feed evaluation.
#pragma once

#include <string_view>

namespace grove::registry {

enum class Split { kTrain, kHoldout };
std::string_view to_text(Split split);       // "train" | "holdout"
Split parse_split(std::string_view text);   // RegistryError(kBadInput) on anything else

}  // namespace grove::registry
