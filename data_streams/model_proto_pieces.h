// The vocabulary of serialized SentencePiece models at the protobuf wire level, and appending pieces to one: what
// vocabulary growth needs without a protobuf library (Grove keeps SentencePiece's protobuf in its own module, see
// sentencepiece_shim.h). A ModelProto's pieces are its repeated field 1, in id order; a parser merges fields that
// occur again, so pieces appended at the end get the next ids and a TrainerSpec (field 2) appended after them
// overrides the recorded vocab_size alone. Old ids keep their pieces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace grove::data {

struct ModelPiece {
  enum class Type { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  std::string text;  // "▁" (U+2581) stands for a space
  float score = 0;
  Type type = Type::kNormal;
};

// The pieces of a ModelProto in id order. DataError naming `name` when the bytes are not one.
std::vector<ModelPiece> read_model_pieces(std::string_view model, const std::string& name);

// `base` with `added` appended as normal pieces (ids base_size, base_size + 1, ...) and trainer_spec.vocab_size set
// to the new total. The caller chooses the scores (below every base score: the base model's segmentations win).
std::string append_model_pieces(std::string_view base, const std::vector<ModelPiece>& added, int64_t new_vocab_size);

}  // namespace grove::data
