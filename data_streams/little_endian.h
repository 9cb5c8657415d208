// Fixed-width little-endian integers for Grove's binary formats (document stores, shards), independent of the
// host's byte order.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace grove::data {

template <typename T>
void append_le(std::string& out, T value) {
  static_assert(std::is_unsigned_v<T>);
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

template <typename T>
T read_le(const void* data) {
  static_assert(std::is_unsigned_v<T>);
  const auto* bytes = static_cast<const unsigned char*>(data);
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(static_cast<T>(bytes[i]) << (8 * i));
  return value;
}

}  // namespace grove::data
