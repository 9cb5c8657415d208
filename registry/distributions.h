// The `distributions` table: named corpus specs with their ingest statistics and shard folder. A name has at most
// one current row; `replace_distribution` retires it and inserts version + 1, so phases keep pointing at the exact
// row (and shard folder) they trained and evaluated on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"

namespace grove::registry {

struct NewDistribution {
  std::string name;
  std::string spec_yaml;    // the resolved spec as ingested
  std::string fingerprint;  // xxh3 hex of the normalised content: re-ingesting the same content is a no-op
  std::string source_kind;  // text | fortune | jsonl | ...
  std::optional<int64_t> n_docs;
  std::optional<int64_t> n_bytes;
  std::optional<int64_t> n_docs_skipped;
  std::optional<int64_t> n_docs_repaired;
  std::string shard_dir;
};

struct DistributionRow : NewDistribution {
  int64_t id = 0;
  int64_t version = 1;
  std::optional<int64_t> n_tokens_train;    // NULL until tokenized
  std::optional<int64_t> n_tokens_holdout;  // NULL until tokenized
  std::string ingested_at;
  std::optional<std::string> retired_at;  // NULL: the current row of its name
  bool current() const { return !retired_at.has_value(); }
};

// Inserts version 1 (or max version + 1 when only retired rows have this name). A current row with the same name
// is bad input: RegistryError(kBadInput) naming the distribution (use replace_distribution).
int64_t insert_distribution(Database& db, const NewDistribution& distribution);
// Retires the current row of this name (if any) and inserts the next version, atomically. Returns the new id.
int64_t replace_distribution(Database& db, const NewDistribution& distribution);
// Marks a row retired (now). Retiring a retired row is bad input naming it.
void retire_distribution(Database& db, int64_t id);
void set_distribution_token_counts(Database& db, int64_t id, int64_t n_tokens_train, int64_t n_tokens_holdout);

std::optional<DistributionRow> find_distribution(Database& db, int64_t id);
std::optional<DistributionRow> find_current_distribution(Database& db, std::string_view name);
// The current row with this fingerprint, whatever its name.
std::optional<DistributionRow> find_distribution_by_fingerprint(Database& db, std::string_view fingerprint);
// Current rows in ingest order; with `include_retired`, every version (by name, then version).
std::vector<DistributionRow> list_distributions(Database& db, bool include_retired = false);

}  // namespace grove::registry
