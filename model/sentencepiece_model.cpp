#include "model/sentencepiece_model.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string_view>

#include "common/errors.h"
#include "common/protobuf_wire.h"

namespace grove::model {
namespace {

void read_piece(WireReader& reader, SentencePieceModelInfo& info) {
  std::string piece;
  auto type = SentencePieceModelInfo::PieceType::kNormal;
  while (!reader.done()) {
    const uint64_t key = reader.varint();
    const uint64_t field = key >> 3;
    if (field == 1 && (key & 7) == kWireLengthDelimited) {
      piece = std::string(reader.bytes(reader.varint()));
    } else if (field == 3 && (key & 7) == kWireVarint) {
      const uint64_t value = reader.varint();
      if (value < 1 || value > 6) reader.fail(fmt::format("piece type {} is not known", value));
      type = static_cast<SentencePieceModelInfo::PieceType>(value);
    } else {
      reader.skip(key & 7);
    }
  }
  info.pieces.push_back(std::move(piece));
  info.types.push_back(type);
}

void read_trainer_spec(WireReader& reader, SentencePieceModelInfo& info) {
  while (!reader.done()) {
    const uint64_t key = reader.varint();
    const uint64_t field = key >> 3;
    if ((key & 7) == kWireVarint && (field == 35 || (field >= 40 && field <= 43))) {
      const auto value = static_cast<int32_t>(static_cast<int64_t>(reader.varint()));
      if (field == 35) info.byte_fallback = value != 0;
      if (field == 40) info.unk_id = value;
      if (field == 41) info.bos_id = value;
      if (field == 42) info.eos_id = value;
      if (field == 43) info.pad_id = value;
    } else {
      reader.skip(key & 7);
    }
  }
}

}  // namespace

std::string SentencePieceModelInfo::piece(int id) const {
  return id >= 0 && id < static_cast<int>(pieces.size()) ? pieces[static_cast<size_t>(id)] : std::string();
}

SentencePieceModelInfo read_sentencepiece_model(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: tokenizer model missing or unreadable", path.string()));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  SentencePieceModelInfo info;
  const std::string name = path.string();
  WireReader reader(bytes, name);
  while (!reader.done()) {
    const uint64_t key = reader.varint();
    const uint64_t field = key >> 3;
    if ((field == 1 || field == 2) && (key & 7) == kWireLengthDelimited) {
      const uint64_t length = reader.varint();
      const size_t start = reader.offset();
      const std::string_view body = reader.bytes(length);
      WireReader inner(body, name, start);
      if (field == 1) read_piece(inner, info);
      if (field == 2) read_trainer_spec(inner, info);
    } else {
      reader.skip(key & 7);
    }
  }
  if (info.pieces.empty()) reader.fail("no pieces");
  for (const int id : {info.unk_id, info.bos_id, info.eos_id, info.pad_id}) {
    if (id < -1 || id >= static_cast<int>(info.pieces.size())) {
      reader.fail(fmt::format("special token id {} outside the {} pieces", id, info.pieces.size()));
    }
  }
  if (info.unk_id < 0 || info.types[static_cast<size_t>(info.unk_id)] != SentencePieceModelInfo::PieceType::kUnknown) {
    reader.fail(fmt::format("unk id {} is not an UNKNOWN piece", info.unk_id));
  }
  return info;
}

}  // namespace grove::model
