#include "common/protobuf_wire.h"

#include <fmt/format.h>

#include <bit>

#include "common/errors.h"

namespace grove {

uint64_t WireReader::varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (done()) fail("varint runs past the end");
    const auto byte = static_cast<uint8_t>(bytes_[position_++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  fail("varint longer than 10 bytes");
}

std::string_view WireReader::bytes(size_t count) {
  if (count > bytes_.size() - position_) fail(fmt::format("field of {} bytes runs past the end", count));
  const std::string_view view = bytes_.substr(position_, count);
  position_ += count;
  return view;
}

float WireReader::fixed32_float() {
  const auto raw = bytes(4);
  uint32_t bits = 0;
  for (int i = 3; i >= 0; --i) bits = (bits << 8) | static_cast<uint8_t>(raw[static_cast<size_t>(i)]);
  return std::bit_cast<float>(bits);
}

void WireReader::skip(uint64_t wire_type) {
  switch (wire_type) {
    case kWireVarint: varint(); return;
    case kWireFixed64: bytes(8); return;
    case kWireLengthDelimited: bytes(varint()); return;
    case kWireFixed32: bytes(4); return;
    default: fail(fmt::format("unsupported wire type {}", wire_type));
  }
}

void WireReader::fail(const std::string& what) const {
  throw DataError(fmt::format("{}: not a SentencePiece model: {} (byte {})", name_, what, offset()));
}

}  // namespace grove
