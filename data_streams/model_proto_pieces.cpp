#include "data_streams/model_proto_pieces.h"

#include <fmt/format.h>

#include <bit>
#include <cstdint>

#include "common/errors.h"
#include "common/protobuf_wire.h"
#include "data_streams/model_proto_check.h"

namespace grove::data {
namespace {

constexpr uint64_t kPiecesField = 1, kTrainerSpecField = 2;
constexpr uint64_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint64_t kTrainerVocabSize = 4;

ModelPiece read_piece(WireReader& in) {
  ModelPiece piece;
  while (!in.done()) {
    const uint64_t tag = in.varint();
    const uint64_t field = tag >> 3, wire_type = tag & 7;
    if (field == kPieceText && wire_type == kWireLengthDelimited) {
      piece.text = std::string(in.bytes(in.varint()));
    } else if (field == kPieceScore && wire_type == kWireFixed32) {
      piece.score = in.fixed32_float();
    } else if (field == kPieceType && wire_type == kWireVarint) {
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
  put_varint(out, (field << 3) | kWireLengthDelimited);
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
    const uint64_t length = in.varint();  // every top-level field is length-delimited (checked)
    const size_t start = in.offset();
    WireReader message(in.bytes(length), name, start);
    if ((tag >> 3) == kPiecesField) pieces.push_back(read_piece(message));
  }
  return pieces;
}

std::string append_model_pieces(std::string_view base, const std::vector<ModelPiece>& added, int64_t new_vocab_size) {
  std::string out(base);
  for (const ModelPiece& piece : added) {
    std::string message;
    put_length_delimited(message, kPieceText, piece.text);
    put_varint(message, (kPieceScore << 3) | kWireFixed32);
    const auto bits = std::bit_cast<uint32_t>(piece.score);
    for (int i = 0; i < 4; ++i) message.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    put_varint(message, (kPieceType << 3) | kWireVarint);
    put_varint(message, static_cast<uint64_t>(piece.type));
    put_length_delimited(out, kPiecesField, message);
  }
  std::string trainer_spec;
  put_varint(trainer_spec, (kTrainerVocabSize << 3) | kWireVarint);
  put_varint(trainer_spec, static_cast<uint64_t>(new_vocab_size));
  put_length_delimited(out, kTrainerSpecField, trainer_spec);
  return out;
}

}  // namespace grove::data
