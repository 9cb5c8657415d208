// Template definitions for common/strict_yaml.h (kept apart so the header reads as an interface).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <type_traits>

#include "common/errors.h"

namespace grove {

template <typename T>
const char* yaml_type_name() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else return "a value of another type";
}

template <typename T>
T StrictMap::convert(const YAML::Node& value, const std::string& key) const {
  if (!value.IsScalar()) {
    throw ConfigError(fmt::format("{}: expected {}, got a {}", where(key), yaml_type_name<T>(),
                                  value.IsMap() ? "mapping" : value.IsSequence() ? "list" : "null value"));
  }
  if constexpr (std::is_same_v<T, std::string>) {
    return value.Scalar();
  } else {
    T result{};
    if (!YAML::convert<T>::decode(value, result)) {
      throw ConfigError(fmt::format("{}: expected {}, got '{}'", where(key), yaml_type_name<T>(), value.Scalar()));
    }
    return result;
  }
}

template <typename T>
T StrictMap::required(const std::string& key) {
  YAML::Node value = lookup(key);
  if (!value || value.IsNull()) {
    throw ConfigError(fmt::format("{}: required key '{}' is missing (expected {})", yaml_location(node_, file_),
                                  key_path(key), yaml_type_name<T>()));
  }
  return convert<T>(value, key);
}

template <typename T>
T StrictMap::get(const std::string& key, const T& fallback) {
  YAML::Node value = lookup(key);
  if (!value || value.IsNull()) return fallback;
  return convert<T>(value, key);
}

template <typename T>
std::optional<T> StrictMap::optional(const std::string& key) {
  YAML::Node value = lookup(key);
  if (!value || value.IsNull()) return std::nullopt;
  return convert<T>(value, key);
}

template <typename T>
std::vector<T> StrictMap::list(const std::string& key) {
  YAML::Node value = lookup(key);
  std::vector<T> items;
  if (!value || value.IsNull()) return items;
  if (value.IsScalar()) {
    items.push_back(convert<T>(value, key));
    return items;
  }
  if (!value.IsSequence()) throw ConfigError(fmt::format("{}: expected a list of {}", where(key), yaml_type_name<T>()));
  for (const auto& item : value) items.push_back(convert<T>(item, key));
  return items;
}

}  // namespace grove
