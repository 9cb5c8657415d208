// Enums stored as TEXT in the registry: one table of (value, text) per enum, so the C++ side is typed while the
// SQL side stays readable (`status = 'training'`) and the CHECK constraints in the schema list the same words.
#pragma once

#include <fmt/format.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "common/errors.h"

namespace grove::registry {

template <typename E, size_t N>
struct EnumText {
  std::string_view what;  // "phase status", used in error messages
  std::array<std::pair<E, std::string_view>, N> names;

  std::string_view to_text(E value) const {
    for (const auto& [v, text] : names) {
      if (v == value) return text;
    }
    throw RegistryError(fmt::format("registry: {} value {} has no name (a bug)", what, static_cast<int>(value)));
  }

  // The text as stored; anything else is a corrupt or foreign row (bad input, naming the value and the choices).
  E from_text(std::string_view text) const {
    for (const auto& [v, name] : names) {
      if (name == text) return v;
    }
    std::string valid;
    for (const auto& entry : names) {
      if (!valid.empty()) valid += '|';
      valid += entry.second;
    }
    throw RegistryError(fmt::format("registry: unknown {} '{}' (expected {})", what, text, valid), ExitCode::kBadInput);
  }
};

}  // namespace grove::registry
