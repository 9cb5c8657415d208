// Tokenizers as registry objects: training one on named ingested distributions (stored under
// grove-data/tokenizers/<hash>.model and registered; training the same spec twice gives the same hash and one row),
// and loading a registered one with its checksum verified.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "data_streams/tokenizer.h"
#include "data_streams/tokenizer_training.h"
#include "registry/database.h"
#include "registry/tokenizers.h"

namespace grove::data {

struct TrainedTokenizer {
  int64_t id = 0;
  std::string hash;
  uint32_t vocab_size = 0;
  uint64_t sample_bytes = 0;
  uint64_t sample_docs = 0;
  std::string model_path;  // as stored (relative to the registry folder)
  double seconds = 0;
};

// Trains on a sample of each named distribution's current version (train split), stores the model atomically and
// registers it; a model file of that hash that is missing or corrupt is written again. Throws DataError for a name
// that is not ingested, ConfigError for a bad spec.
TrainedTokenizer train_tokenizer(registry::Database& db, const TokenizerSpec& spec);

// Stores a tokenizer's model under grove-data/tokenizers/<hash>.model (atomically, permissions limited like the
// registry folder's; a file of that hash that is missing or damaged is written again) and registers it (the same
// hash registers once). Returns its row.
registry::TokenizerRow store_tokenizer(registry::Database& db, const Tokenizer& tokenizer, registry::TokenizerKind kind,
                                      const std::vector<std::string>& trained_on, int64_t sample_bytes);

// Loads the model of a registered tokenizer; a missing file or one whose hash differs from the row is a DataError
// naming the file.
Tokenizer load_registered_tokenizer(registry::Database& db, const registry::TokenizerRow& row);

// Whether a registered tokenizer's model file is there with the bytes it was registered with (read and hashed; no
// SentencePiece parse). `state` is "ok", "missing", "unreadable" or "corrupt"; `problem` (empty when ok) names the
// file and says what is wrong with it.
struct ModelFileCheck {
  std::string state;
  std::string problem;
  bool ok() const { return problem.empty(); }
};
ModelFileCheck check_registered_model(registry::Database& db, const registry::TokenizerRow& row);

// The most recently registered tokenizer, if any.
std::optional<registry::TokenizerRow> newest_tokenizer(registry::Database& db);
// The tokenizer with this hash; DataError naming the registry and the hash when there is none.
registry::TokenizerRow require_tokenizer(registry::Database& db, const std::string& hash);

}  // namespace grove::data
