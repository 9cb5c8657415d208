#include "common/errors.h"

namespace grove {

int exit_code_for(const std::exception& error) noexcept {
  if (const auto* grove_error = dynamic_cast<const Error*>(&error)) {
    return static_cast<int>(grove_error->exit_code());
  }
  return static_cast<int>(ExitCode::kRuntime);
}

}  // namespace grove
