// Reading the protobuf wire format by hand: each field is a varint key (number << 3 | wire type) followed by its
// value. Enough for the SentencePiece model files Grove inspects (data_streams/model_proto_pieces.h,
// model/sentencepiece_model.h) without a protobuf library: SentencePiece's own protobuf lives in its own module.
// Every read past the end, or of a wire type protobuf does not define, is a DataError naming the file and byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace grove {

enum WireType : uint64_t { kWireVarint = 0, kWireFixed64 = 1, kWireLengthDelimited = 2, kWireFixed32 = 5 };

class WireReader {
 public:
  // `name`: the file, for messages (referenced, not copied); `base`: the byte offset of `bytes` within it.
  WireReader(std::string_view bytes, const std::string& name, size_t base = 0)
      : bytes_(bytes), name_(name), base_(base) {}

  bool done() const { return position_ >= bytes_.size(); }
  uint64_t varint();
  std::string_view bytes(size_t count);
  float fixed32_float();
  void skip(uint64_t wire_type);  // a field's value of `wire_type`
  size_t offset() const { return base_ + position_; }
  // DataError: "<name>: not a SentencePiece model: <what> (byte <offset>)".
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string_view bytes_;
  const std::string& name_;
  size_t base_;
  size_t position_ = 0;
};

}  // namespace grove
