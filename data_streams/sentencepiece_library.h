// SentencePiece for Grove code, through the libgrove_sentencepiece module loaded at run time (why: see
// sentencepiece_shim.h). The module is looked up as $GROVE_SENTENCEPIECE_MODULE when set, else beside the running
// executable, else at the path it was built at. A missing or broken module is a DataError naming where it looked.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct GroveSpm;

namespace grove::data {

// One loaded SentencePiece model (RAII over the module's handle). Thread-safe for concurrent encode/decode.
class SentencePieceModel {
 public:
  // Throws DataError("<name>: not a SentencePiece model: ...") when the bytes do not parse.
  SentencePieceModel(std::string_view model_bytes, const std::string& name);
  ~SentencePieceModel();
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  void encode(std::string_view text, std::vector<int>& ids) const;  // appends
  std::string decode(const std::vector<int>& ids) const;
  int piece_size() const;
  int unk_id() const;
  int bos_id() const;
  int eos_id() const;
  int pad_id() const;
  int piece_to_id(std::string_view piece) const;  // unk_id() when absent
  bool is_byte(int id) const;

 private:
  GroveSpm* handle_ = nullptr;
  std::string name_;
};

// Trains a model on `lines` with SentencePiece options (key, value) and returns the serialized model.
// Throws ConfigError with SentencePiece's message when it rejects the settings. SentencePiece cannot be stopped once
// it trains, so it trains on a worker the caller leaves behind on SIGTERM/SIGINT (InterruptedError within 50 ms,
// the process must then end through exit_process: common/stoppable_work.h); `lines` are moved to that worker.
std::string train_sentencepiece_model(const std::vector<std::pair<std::string, std::string>>& options,
                                      std::vector<std::string> lines);

// Where the module was loaded from (loads it if needed): for `grove --version` and error messages.
std::string sentencepiece_module_path();

}  // namespace grove::data
