// Experiment files compiled into the grove binary, so `grove demo` needs nothing but the Debian corpora.
#pragma once

#include <string_view>

namespace grove::experiments {

// The text of experiments/demo.yaml at build time.
std::string_view demo_experiment_yaml();

}  // namespace grove::experiments
