#include "data_streams/tokenizer_registry.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/hashing.h"
#include "data_streams/data_layout.h"
#include "registry/distributions.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

// The whole file, or nullopt when it cannot be opened or read.
std::optional<std::string> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return bytes;
}

}  // namespace

TrainedTokenizer train_tokenizer(registry::Database& db, const TokenizerSpec& spec) {
  const auto started = std::chrono::steady_clock::now();
  validate_tokenizer_spec(spec);
  const DataLayout layout = DataLayout::for_registry(db);
  std::vector<DocumentStore> stores;
  for (const auto& name : spec.train_on) {
    const auto row = registry::find_current_distribution(db, name);
    if (!row) {
      throw DataError(fmt::format("registry {}: distribution '{}' is not ingested (run `grove ingest` first)",
                                  db.path(), name));
    }
    stores.push_back(DocumentStore::open(layout.resolve(row->shard_dir)));
  }
  std::vector<std::string_view> sample;
  TrainedTokenizer result;
  for (const auto& store : stores) {
    for (std::string_view doc : sample_documents(store, spec.sample_bytes_per_distribution, spec.seed)) {
      sample.push_back(doc);
      result.sample_bytes += doc.size();
    }
  }
  result.sample_docs = sample.size();
  const Tokenizer tokenizer = Tokenizer::from_model_bytes(train_sentencepiece(sample, spec), "trained tokenizer");
  const auto row = store_tokenizer(db, tokenizer, spec.kind, spec.train_on, static_cast<int64_t>(result.sample_bytes));
  result.id = row.id;
  result.hash = row.hash;
  result.vocab_size = tokenizer.vocab_size();
  result.model_path = row.model_path;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

registry::TokenizerRow store_tokenizer(registry::Database& db, const Tokenizer& tokenizer, registry::TokenizerKind kind,
                                      const std::vector<std::string>& trained_on, int64_t sample_bytes) {
  const DataLayout layout = DataLayout::for_registry(db);
  const fs::path path = layout.tokenizer_model(tokenizer.hash());
  fs::create_directories(path.parent_path());
  if (read_bytes(path) != tokenizer.model_bytes()) {  // new, or lost or damaged since
    atomic_write_file(path, tokenizer.model_bytes());
    layout.limit_permissions(path);  // its pieces are text from the corpora
  }
  registry::NewTokenizer row;
  row.hash = tokenizer.hash();
  row.kind = kind;
  row.vocab_size = tokenizer.vocab_size();
  row.model_path = layout.to_stored(path);
  row.trained_on = trained_on;
  row.sample_bytes = sample_bytes;
  const int64_t id = registry::register_tokenizer(db, row);
  return *registry::find_tokenizer(db, id);
}

Tokenizer load_registered_tokenizer(registry::Database& db, const registry::TokenizerRow& row) {
  const fs::path path = DataLayout::for_registry(db).resolve(row.model_path);
  Tokenizer tokenizer = Tokenizer::load(path);
  if (tokenizer.hash() != row.hash) {
    throw DataError(fmt::format("{}: checksum mismatch: the model hashes to {}, the registry expects {}",
                                path.string(), tokenizer.hash(), row.hash));
  }
  return tokenizer;
}

ModelFileCheck check_registered_model(registry::Database& db, const registry::TokenizerRow& row) {
  const fs::path path = DataLayout::for_registry(db).resolve(row.model_path);
  std::error_code error;
  if (!fs::exists(path, error) && !error) {
    return {"missing", fmt::format("{}: the model file of tokenizer {} is missing", path.string(), row.hash)};
  }
  const auto bytes = read_bytes(path);
  if (!bytes) {
    return {"unreadable", fmt::format("{}: the model file of tokenizer {} cannot be read: {}", path.string(),
                                      row.hash, error ? error.message() : std::strerror(errno))};
  }
  const std::string hash = hash_hex(xxh3_64(*bytes));
  if (hash != row.hash) {
    return {"corrupt", fmt::format("{}: the model file of tokenizer {} is corrupt: its {} bytes hash to {}, the "
                                   "registry expects {}",
                                   path.string(), row.hash, bytes->size(), hash, row.hash)};
  }
  return {"ok", ""};
}

std::optional<registry::TokenizerRow> newest_tokenizer(registry::Database& db) {
  auto rows = registry::list_tokenizers(db);
  if (rows.empty()) return std::nullopt;
  return rows.back();
}

registry::TokenizerRow require_tokenizer(registry::Database& db, const std::string& hash) {
  auto row = registry::find_tokenizer_by_hash(db, hash);
  if (!row) {
    throw DataError(fmt::format("registry {}: no tokenizer with hash '{}' (see `grove tokenizer list`)", db.path(),
                                hash));
  }
  return *row;
}

}  // namespace grove::data
