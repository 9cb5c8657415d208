#include "data_streams/model_proto_check.h"

#include <fmt/format.h>

#include <cstdint>

namespace grove::data {
namespace {

// A base-128 varint at `pos` (advanced past it), or nullopt when it runs past the end or beyond 64 bits.
std::optional<uint64_t> read_varint(std::string_view bytes, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> model_proto_problem(std::string_view bytes) {
  if (bytes.empty()) return std::string("the file is empty");
  constexpr uint64_t kLengthDelimited = 2;
  constexpr uint64_t kPiecesField = 1, kLastField = 5, kFirstExtension = 200;
  bool has_pieces = false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t field_start = pos;
    const auto tag = read_varint(bytes, pos);
    if (!tag) return fmt::format("a field tag at byte {} runs past the end", field_start);
    const uint64_t field = *tag >> 3, wire_type = *tag & 7;
    if (field == 0 || (field > kLastField && field < kFirstExtension)) {
      return fmt::format("byte {} starts field {}, which a SentencePiece model does not have", field_start, field);
    }
    if (wire_type != kLengthDelimited) {
      return fmt::format("field {} at byte {} has wire type {}; a model's fields are length-delimited (2)", field,
                         field_start, wire_type);
    }
    const auto length = read_varint(bytes, pos);
    if (!length || *length > bytes.size() - pos) {
      return fmt::format("field {} at byte {} is longer than the {} bytes left", field, field_start,
                         bytes.size() - pos);
    }
    pos += static_cast<size_t>(*length);
    has_pieces = has_pieces || field == kPiecesField;
  }
  if (!has_pieces) return std::string("it has no vocabulary pieces (field 1)");
  return std::nullopt;
}

}  // namespace grove::data
