#include "orchestrator/run_context.h"

#include <fmt/format.h>

#include <set>

#include "common/errors.h"
#include "data_streams/data_layout.h"

namespace grove::orch {

std::shared_ptr<const data::ShardReader> RunContext::shard(int64_t distribution_id, registry::Split split) {
  const int64_t tokenizer_id = distribution_tokenizer_id(distribution_id);
  const auto key = std::make_tuple(distribution_id, tokenizer_id, static_cast<int>(split));
  if (auto found = shards_.find(key); found != shards_.end()) return found->second;
  const auto row = registry::find_shard(registry(), distribution_id, tokenizer_id, split);
  if (!row) {
    const auto tokenizer_row = registry::find_tokenizer(registry(), tokenizer_id);
    throw DataError(fmt::format("run '{}': distribution #{} has no {} shard for tokenizer {} (was it tokenized?)",
                                run.name, distribution_id, registry::to_text(split),
                                tokenizer_row ? tokenizer_row->hash : std::to_string(tokenizer_id)),
                    ExitCode::kRuntime);
  }
  const data::DataLayout layout = data::DataLayout::for_registry(registry());
  auto reader = std::make_shared<const data::ShardReader>(
      data::ShardReader::open(layout.resolve(row->path), data::ShardReader::Verify::kNow));
  shards_[key] = reader;
  return reader;
}

int64_t RunContext::distribution_tokenizer_id(int64_t distribution_id) const {
  for (const auto& phase : registry::list_phases(registry(), run.id)) {
    if (phase.distribution_id != distribution_id) continue;
    if (phase.tokenizer_id) return *phase.tokenizer_id;
    break;
  }
  if (!run.tokenizer_id) throw RegistryError(fmt::format("run '{}' has no tokenizer recorded", run.name));
  return *run.tokenizer_id;
}

registry::TokenizerRow RunContext::phase_tokenizer(int64_t phase_idx) const {
  if (!run.tokenizer_id) throw RegistryError(fmt::format("run '{}' has no tokenizer recorded", run.name));
  int64_t id = *run.tokenizer_id;
  for (const auto& phase : registry::list_phases(registry(), run.id)) {
    if (phase.idx <= phase_idx && phase.tokenizer_id) id = *phase.tokenizer_id;
  }
  auto row = registry::find_tokenizer(registry(), id);
  if (!row) throw RegistryError(fmt::format("run '{}': tokenizer #{} is not in the registry", run.name, id));
  return *row;
}

int64_t RunContext::phase_vocab_size(int64_t phase_idx) const {
  const auto row = phase_tokenizer(phase_idx);
  return run.tokenizer_id && row.id == *run.tokenizer_id ? run_vocab_size : row.vocab_size.value_or(run_vocab_size);
}

void RunContext::enter_phase(int64_t phase_idx) {
  tokenizer = phase_tokenizer(phase_idx);
  model_config.vocab_size = phase_vocab_size(phase_idx);
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
