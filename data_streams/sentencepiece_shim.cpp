// libgrove_sentencepiece: the C interface of sentencepiece_shim.h over Debian's libsentencepiece. The only file
// that includes SentencePiece's headers; loaded at run time by sentencepiece_library.cpp.
#include "data_streams/sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

struct GroveSpm {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

void set_error(const std::string& message, char* error, size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// A malloc'ed copy the caller frees with grove_spm_free_buffer.
template <typename T>
T* copy_out(const T* data, size_t count) {
  auto* out = static_cast<T*>(std::malloc(std::max<size_t>(1, count) * sizeof(T)));
  if (out != nullptr && count > 0) std::memcpy(out, data, count * sizeof(T));
  return out;
}

class Lines final : public sentencepiece::SentenceIterator {
 public:
  Lines(const char* const* lines, const size_t* sizes, size_t count) {
    for (size_t i = 0; i < count; ++i) lines_.emplace_back(lines[i], sizes[i]);
  }
  bool done() const override { return next_ >= lines_.size(); }
  void Next() override { ++next_; }
  const std::string& value() const override { return lines_[next_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  std::vector<std::string> lines_;
  size_t next_ = 0;
};

}  // namespace

extern "C" {

GroveSpm* grove_spm_load(const char* model, size_t model_size, char* error, size_t error_size) {
  auto* spm = new GroveSpm;
  const auto status = spm->processor.LoadFromSerializedProto(std::string_view(model, model_size));
  if (!status.ok()) {
    set_error(status.ToString(), error, error_size);
    delete spm;
    return nullptr;
  }
  return spm;
}

void grove_spm_free(GroveSpm* spm) { delete spm; }
void grove_spm_free_buffer(void* buffer) { std::free(buffer); }

int grove_spm_encode(const GroveSpm* spm, const char* text, size_t text_size, int** ids, size_t* count, char* error,
                     size_t error_size) {
  std::vector<int> out;
  const auto status = spm->processor.Encode(std::string_view(text, text_size), &out);
  if (!status.ok()) {
    set_error(status.ToString(), error, error_size);
    return -1;
  }
  *ids = copy_out(out.data(), out.size());
  *count = out.size();
  return *ids == nullptr ? -1 : 0;
}

int grove_spm_decode(const GroveSpm* spm, const int* ids, size_t count, char** text, size_t* text_size, char* error,
                     size_t error_size) {
  std::string out;
  const auto status = spm->processor.Decode(std::vector<int>(ids, ids + count), &out);
  if (!status.ok()) {
    set_error(status.ToString(), error, error_size);
    return -1;
  }
  *text = copy_out(out.data(), out.size());
  *text_size = out.size();
  return *text == nullptr ? -1 : 0;
}

int grove_spm_piece_size(const GroveSpm* spm) { return spm->processor.GetPieceSize(); }

int grove_spm_special_id(const GroveSpm* spm, int which) {
  switch (which) {
    case 0: return spm->processor.unk_id();
    case 1: return spm->processor.bos_id();
    case 2: return spm->processor.eos_id();
    case 3: return spm->processor.pad_id();
    default: return -1;
  }
}

int grove_spm_piece_to_id(const GroveSpm* spm, const char* piece, size_t piece_size) {
  return spm->processor.PieceToId(std::string_view(piece, piece_size));
}

int grove_spm_is_byte(const GroveSpm* spm, int id) { return spm->processor.IsByte(id) ? 1 : 0; }

int grove_spm_train(const char* const* keys, const char* const* values, size_t option_count, const char* const* lines,
                    const size_t* line_sizes, size_t line_count, char** model, size_t* model_size, char* error,
                    size_t error_size) {
  std::unordered_map<std::string, std::string> options;
  for (size_t i = 0; i < option_count; ++i) options[keys[i]] = values[i];
  Lines iterator(lines, line_sizes, line_count);
  std::string serialized;
  const auto status = sentencepiece::SentencePieceTrainer::Train(options, &iterator, &serialized);
  if (!status.ok()) {
    set_error(status.ToString(), error, error_size);
    return -1;
  }
  *model = copy_out(serialized.data(), serialized.size());
  *model_size = serialized.size();
  return *model == nullptr ? -1 : 0;
}

}  // extern "C"
