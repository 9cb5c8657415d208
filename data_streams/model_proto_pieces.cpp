#include "data_streams/model_proto_pieces.h"

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>

#include "common/errors.h"
#include "data_streams/model_proto_check.h"

namespace grove::data {
namespace {

constexpr uint64_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;
constexpr uint64_t kPiecesField = 1, kTrainerSpecField = 2;
constexpr uint64_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint64_t kTrainerVocabSize = 4;

class WireReader {
 public:
  WireReader(std::string_view bytes, const std::string& name) : bytes_(bytes), name_(name) {}
  bool done() const { return pos_ >= bytes_.size(); }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) fail("a varint runs past the end");
      const auto byte = static_cast<uint8_t>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("a varint is longer than 64 bits");
  }
  std::string_view take(uint64_t n) {
    if (n > bytes_.size() - pos_) fail(fmt::format("a field of {} bytes runs past the end", n));
    const auto out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  void skip(uint64_t wire_type) {
    switch (wire_type) {
      case kVarint: varint(); return;
      case kFixed64: take(8); return;
      case kLengthDelimited: take(varint()); return;
      case kFixed32: take(4); return;
      default: fail(fmt::format("wire type {} is not one a SentencePiece model uses", wire_type));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(fmt::format("{}: not a SentencePiece model: at byte {}, {}", name_, pos_, what));
  }

 private:
  std::string_view bytes_;
  const std::string& name_;
  size_t pos_ = 0;
};

ModelPiece read_piece(std::string_view message, const std::string& name) {
  ModelPiece piece;
  WireReader in(message, name);
  while (!in.done()) {
    const uint64_t tag = in.varint();
    const uint64_t field = tag >> 3, wire_type = tag & 7;
    if (field == kPieceText && wire_type == kLengthDelimited) {
      piece.text = std::string(in.take(in.varint()));
    } else if (field == kPieceScore && wire_type == kFixed32) {
      const auto raw = in.take(4);
      uint32_t bits = 0;
      for (int i = 3; i >= 0; --i) bits = (bits << 8) | static_cast<uint8_t>(raw[static_cast<size_t>(i)]);
      piece.score = std::bit_cast<float>(bits);
    } else if (field == kPieceType && wire_type == kVarint) {
      const uint64_t type = in.varint();
      if (type < 1 || type > 6) in.fail(fmt::format("piece type {} is not one SentencePiece defines", type));
      piece.type = static_cast<ModelPiece::Type>(type);
    } else {
      in.skip(wire_type);
    }
  }
  return piece;
}

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_length_delimited(std::string& out, uint64_t field, std::string_view payload) {
  put_varint(out, (field << 3) | kLengthDelimited);
  put_varint(out, payload.size());
  out.append(payload);
}

}  // namespace

std::vector<ModelPiece> read_model_pieces(std::string_view model, const std::string& name) {
  if (const auto problem = model_proto_problem(model)) {
    throw DataError(fmt::format("{}: not a SentencePiece model: {}", name, *problem));
  }
  std::vector<ModelPiece> pieces;
  WireReader in(model, name);
  while (!in.done()) {
    const uint64_t tag = in.varint();
    const std::string_view payload = in.take(in.varint());  // every top-level field is length-delimited (checked)
    if ((tag >> 3) == kPiecesField) pieces.push_back(read_piece(payload, name));
  }
  return pieces;
}

std::string append_model_pieces(std::string_view base, const std::vector<ModelPiece>& added, int64_t new_vocab_size) {
  std::string out(base);
  for (const ModelPiece& piece : added) {
    std::string message;
    put_length_delimited(message, kPieceText, piece.text);
    put_varint(message, (kPieceScore << 3) | kFixed32);
    const auto bits = std::bit_cast<uint32_t>(piece.score);
    for (int i = 0; i < 4; ++i) message.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    put_varint(message, (kPieceType << 3) | kVarint);
    put_varint(message, static_cast<uint64_t>(piece.type));
    put_length_delimited(out, kPiecesField, message);
  }
  std::string trainer_spec;
  put_varint(trainer_spec, (kTrainerVocabSize << 3) | kVarint);
  put_varint(trainer_spec, static_cast<uint64_t>(new_vocab_size));
  put_length_delimited(out, kTrainerSpecField, trainer_spec);
  return out;
}

}  // namespace grove::data
