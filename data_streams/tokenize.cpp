#include "data_streams/tokenize.h"

#include <fmt/format.h>

#include <chrono>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/stop_flag.h"
#include "data_streams/data_layout.h"
#include "data_streams/parallel_for.h"
#include "data_streams/tokenizer_registry.h"
#include "registry/distributions.h"
#include "registry/shards.h"
#include "registry/tokenizers.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

constexpr size_t kChunkDocs = 2048;

uint64_t parse_hash(const std::string& hex) { return std::stoull(hex, nullptr, 16); }

}  // namespace

TokenShards write_token_shards(const DocumentStore& store, const Tokenizer& tokenizer, const fs::path& folder,
                               unsigned threads, ProgressMeter* progress, std::string_view name) {
  const auto stop_if_asked = [&] {
    if (stop_signal_number() != 0) throw stopped_error(fmt::format("tokenizing '{}'", name));
  };
  fs::create_directories(folder);
  const uint64_t tokenizer_hash = parse_hash(tokenizer.hash());
  ShardWriter train(folder / "train", tokenizer.vocab_size(), tokenizer.bos_id(), tokenizer.pad_id(), tokenizer_hash);
  ShardWriter holdout(folder / "holdout", tokenizer.vocab_size(), tokenizer.bos_id(), tokenizer.pad_id(),
                      tokenizer_hash);
  std::vector<std::string_view> chunk;
  for (uint64_t begin = 0; begin < store.size(); begin += kChunkDocs) {
    stop_if_asked();  // between chunks; the caller's temporary folder goes with the work
    const uint64_t end = std::min<uint64_t>(store.size(), begin + kChunkDocs);
    chunk.clear();
    uint64_t chunk_bytes = 0;
    for (uint64_t i = begin; i < end; ++i) {
      chunk.push_back(store.document(i));
      chunk_bytes += chunk.back().size();
    }
    const auto encoded = tokenizer.encode_all(chunk, threads);
    for (uint64_t i = begin; i < end; ++i) {
      ShardWriter& writer = store.is_holdout(i) ? holdout : train;
      writer.add(encoded[i - begin], chunk[i - begin].size());
    }
    if (progress) progress->advance(chunk_bytes);
    if (begin == 0 && stop_test_points_on()) stop_test_point(fmt::format("tokenize:{}", name));
  }
  stop_if_asked();
  return {train.finish(), holdout.finish()};
}

TokenizeReport ensure_tokenized(registry::Database& db, int64_t distribution_id, int64_t tokenizer_id,
                                unsigned threads, ProgressOptions::Mode progress_mode) {
  const auto started = std::chrono::steady_clock::now();
  const DataLayout layout = DataLayout::for_registry(db);
  const auto distribution = registry::find_distribution(db, distribution_id);
  if (!distribution) throw DataError(fmt::format("registry {}: no distribution with id {}", db.path(), distribution_id));
  const auto tokenizer_row = registry::find_tokenizer(db, tokenizer_id);
  if (!tokenizer_row) throw DataError(fmt::format("registry {}: no tokenizer with id {}", db.path(), tokenizer_id));

  TokenizeReport report;
  const auto train_row = registry::find_shard(db, distribution_id, tokenizer_id, registry::Split::kTrain);
  const auto holdout_row = registry::find_shard(db, distribution_id, tokenizer_id, registry::Split::kHoldout);
  if (train_row && holdout_row && fs::exists(layout.resolve(train_row->path)) &&
      fs::exists(layout.resolve(holdout_row->path))) {
    report.already_done = true;
    report.train_tokens = train_row->n_tokens;
    report.holdout_tokens = holdout_row->n_tokens;
    report.bytes = train_row->n_bytes + holdout_row->n_bytes;
    return report;
  }

  const fs::path distribution_dir = layout.resolve(distribution->shard_dir);
  const DocumentStore store = DocumentStore::open(distribution_dir);
  const Tokenizer tokenizer = load_registered_tokenizer(db, *tokenizer_row);
  const fs::path final_dir = layout.token_dir(distribution_dir, tokenizer.hash());

  TempFolder temp = layout.make_temp_folder("tokenize-" + distribution->name);
  ProgressOptions options;
  options.label = fmt::format("tokenize {} v{}", distribution->name, distribution->version);
  options.total = store.text_bytes();
  options.unit = ProgressUnit::kBytes;
  options.mode = progress_mode;
  ProgressMeter progress(options);
  const TokenShards shards = write_token_shards(store, tokenizer, temp.path(), threads, &progress, distribution->name);
  layout.limit_permissions(temp.path());
  publish_folder(temp.path(), final_dir);
  temp.release();

  registry::Transaction transaction(db);
  for (const auto& [split, info] : {std::pair{registry::Split::kTrain, &shards.train},
                                    std::pair{registry::Split::kHoldout, &shards.holdout}}) {
    registry::NewShard row;
    row.distribution_id = distribution_id;
    row.tokenizer_id = tokenizer_id;
    row.split = split;
    row.path = layout.to_stored(final_dir / info->index_path.filename());
    row.n_docs = static_cast<int64_t>(info->docs);
    row.n_tokens = static_cast<int64_t>(info->tokens);
    row.n_bytes = static_cast<int64_t>(info->bytes);
    row.xxh3 = info->xxh3;
    registry::record_shard(db, row);
  }
  registry::set_distribution_token_counts(db, distribution_id, static_cast<int64_t>(shards.train.tokens),
                                          static_cast<int64_t>(shards.holdout.tokens));
  transaction.commit();

  report.train_tokens = static_cast<int64_t>(shards.train.tokens);
  report.holdout_tokens = static_cast<int64_t>(shards.holdout.tokens);
  report.bytes = static_cast<int64_t>(shards.train.bytes + shards.holdout.bytes);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.finish(fmt::format("{} train + {} holdout tokens, {:.3f} tokens per byte", report.train_tokens,
                              report.holdout_tokens,
                              static_cast<double>(report.train_tokens + report.holdout_tokens) /
                                  static_cast<double>(std::max<int64_t>(1, report.bytes))));
  return report;
}

std::shared_ptr<const ShardReader> open_registered_shard(registry::Database& db, int64_t distribution_id,
                                                         int64_t tokenizer_id, registry::Split split) {
  const auto row = registry::find_shard(db, distribution_id, tokenizer_id, split);
  if (!row) {
    throw DataError(fmt::format("registry {}: distribution id {} has no {} shard for tokenizer id {} "
                                "(ensure_tokenized creates it)",
                                db.path(), distribution_id, registry::to_text(split), tokenizer_id));
  }
  return std::make_shared<const ShardReader>(ShardReader::open(DataLayout::for_registry(db).resolve(row->path)));
}

}  // namespace grove::data
