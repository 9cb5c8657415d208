// The `shards` table: the token files of one distribution, tokenized with one tokenizer, for one split, with the
// checksum that readers verify.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/database.h"
#include "registry/split.h"

namespace grove::registry {

struct NewShard {
  int64_t distribution_id = 0;
  int64_t tokenizer_id = 0;
  Split split = Split::kTrain;
  std::string path;
  int64_t n_docs = 0;
  int64_t n_tokens = 0;
  int64_t n_bytes = 0;  // UTF-8 bytes of the text behind the tokens (bits-per-byte denominators)
  std::string xxh3;     // hex checksum of the token file
};

struct ShardRow : NewShard {
  int64_t id = 0;
  std::string created_at;
};

// Inserts the shard, or replaces the row with the same (distribution, tokenizer, split) (re-tokenizing after an
// interrupted ingest). Returns the row id. Unknown distribution or tokenizer ids are bad input.
int64_t record_shard(Database& db, const NewShard& shard);
std::optional<ShardRow> find_shard(Database& db, int64_t distribution_id, int64_t tokenizer_id, Split split);
// Every shard of a distribution (train first), or of all distributions when `distribution_id` is empty.
std::vector<ShardRow> list_shards(Database& db, std::optional<int64_t> distribution_id = std::nullopt);

}  // namespace grove::registry
