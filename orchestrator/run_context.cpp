#include "orchestrator/run_context.h"

#include <fmt/format.h>

#include <set>

#include "common/errors.h"
#include "data_streams/data_layout.h"

namespace grove::orch {

std::shared_ptr<const data::ShardReader> RunContext::shard(int64_t distribution_id, registry::Split split) {
  const auto key = std::make_pair(distribution_id, static_cast<int>(split));
  if (auto found = shards_.find(key); found != shards_.end()) return found->second;
  const auto row = registry::find_shard(registry(), distribution_id, tokenizer.id, split);
  if (!row) {
    throw DataError(fmt::format("run '{}': distribution #{} has no {} shard for tokenizer {} (was it tokenized?)",
                                run.name, distribution_id, registry::to_text(split), tokenizer.hash),
                    ExitCode::kRuntime);
  }
  const data::DataLayout layout = data::DataLayout::for_registry(registry());
  auto reader = std::make_shared<const data::ShardReader>(
      data::ShardReader::open(layout.resolve(row->path), data::ShardReader::Verify::kNow));
  shards_[key] = reader;
  return reader;
}

std::vector<registry::DistributionRow> RunContext::timeline_distributions() {
  std::vector<registry::DistributionRow> rows;
  std::set<int64_t> seen;
  for (const auto& phase : registry::list_phases(registry(), run.id)) {
    if (!seen.insert(phase.distribution_id).second) continue;
    auto row = registry::find_distribution(registry(), phase.distribution_id);
    if (!row) throw RegistryError(fmt::format("phase {} of run '{}' points at a missing distribution", phase.idx, run.name));
    rows.push_back(*row);
  }
  return rows;
}

}  // namespace grove::orch
