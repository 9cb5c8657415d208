// Reading result rows into plain structs: the one loop every typed query shares.
#pragma once

#include <optional>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

// Steps `statement` to the end, turning each row into a Row with `read(statement)`.
template <typename Reader>
auto read_all(Statement& statement, Reader read) {
  std::vector<decltype(read(statement))> rows;
  while (statement.step()) rows.push_back(read(statement));
  return rows;
}

// The first row, if any.
template <typename Reader>
auto read_first(Statement& statement, Reader read) -> std::optional<decltype(read(statement))> {
  if (!statement.step()) return std::nullopt;
  return read(statement);
}

}  // namespace grove::registry
