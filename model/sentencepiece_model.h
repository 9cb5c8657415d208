// Just enough of a SentencePiece model file (a ModelProto protobuf) to export it next to a model: the pieces with
// their types and the special-token ids from its TrainerSpec. A small protobuf wire-format walk of our own, so the
// model folder needs no SentencePiece or protobuf library. Malformed files throw DataError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace grove::model {

struct SentencePieceModelInfo {
  enum class PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  std::vector<std::string> pieces;
  std::vector<PieceType> types;
  int unk_id = 0;  // TrainerSpec defaults, overridden by the file's values
  int bos_id = 1;
  int eos_id = 2;
  int pad_id = -1;  // -1: none
  bool byte_fallback = false;

  int64_t vocab_size() const { return static_cast<int64_t>(pieces.size()); }
  // The piece text of `id`, or "" when id is -1.
  std::string piece(int id) const;
};

SentencePieceModelInfo read_sentencepiece_model(const std::filesystem::path& path);

}  // namespace grove::model
