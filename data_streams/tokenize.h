// Tokenizing an ingested distribution version with one tokenizer: its document store becomes a train and a holdout
// shard (documents encoded on all cores, written in document order), placed under the distribution's folder and
// registered. ensure_tokenized() is idempotent: the orchestrator calls it before every phase that needs the shards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "common/progress.h"
#include "data_streams/document_store.h"
#include "data_streams/shard_reader.h"
#include "data_streams/shard_writer.h"
#include "data_streams/tokenizer.h"
#include "registry/database.h"
#include "registry/split.h"

namespace grove::data {

struct TokenShards {
  ShardInfo train;
  ShardInfo holdout;
};

// Writes <folder>/train.{tokens,index} and <folder>/holdout.{tokens,index} (`folder` is created; registry-free).
// Documents are encoded in chunks, each chunk in parallel on `threads` threads (0: all cores). Between chunks a
// SIGTERM/SIGINT stop request throws InterruptedError naming `name` (the distribution) (common/stop_flag.h).
TokenShards write_token_shards(const DocumentStore& store, const Tokenizer& tokenizer,
                               const std::filesystem::path& folder, unsigned threads = 0,
                               ProgressMeter* progress = nullptr, std::string_view name = {});

struct TokenizeReport {
  bool already_done = false;  // the shards were registered before: nothing was done
  int64_t train_tokens = 0;
  int64_t holdout_tokens = 0;
  int64_t bytes = 0;          // UTF-8 bytes of all documents
  double seconds = 0;
};

// Makes sure the distribution row `distribution_id` has train and holdout shards for tokenizer row `tokenizer_id`:
// when both are registered and their files present, does nothing; otherwise tokenizes into a temporary folder,
// renames it into place and registers both shards and the distribution's token counts in one transaction.
// Throws DataError naming the file for a damaged document store or tokenizer model.
TokenizeReport ensure_tokenized(registry::Database& db, int64_t distribution_id, int64_t tokenizer_id,
                                unsigned threads = 0, ProgressOptions::Mode progress = ProgressOptions::Mode::kAuto);

// The registered shard of a distribution row for a tokenizer row and split, opened and checksum-verified (what the
// samplers take). Throws DataError when it is not registered (call ensure_tokenized first) or damaged.
std::shared_ptr<const ShardReader> open_registered_shard(registry::Database& db, int64_t distribution_id,
                                                         int64_t tokenizer_id, registry::Split split);

}  // namespace grove::data
