#include "orchestrator/phase_vocabulary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "common/errors.h"
#include "common/log.h"
#include "data_streams/data_layout.h"
#include "data_streams/model_proto_pieces.h"
#include "data_streams/tokenize.h"
#include "data_streams/tokenizer_registry.h"
#include "data_streams/vocabulary_growth.h"
#include "model/vocabulary_growth.h"
#include "registry/distributions.h"
#include "registry/events.h"

namespace grove::orch {
namespace {

// The spellings, under `from`, of the pieces `to` has beyond `from`'s vocabulary, in id order.
std::vector<std::vector<int64_t>> new_piece_spellings(RunContext& ctx, const registry::TokenizerRow& from,
                                                      const registry::TokenizerRow& to) {
  const data::Tokenizer old_tokenizer = data::load_registered_tokenizer(ctx.registry(), from);
  const data::Tokenizer new_tokenizer = data::load_registered_tokenizer(ctx.registry(), to);
  const auto pieces = data::read_model_pieces(new_tokenizer.model_bytes(), to.model_path);
  const auto first = static_cast<size_t>(old_tokenizer.vocab_size());
  if (pieces.size() < first) {
    throw DataError(fmt::format("tokenizer {} has {} pieces, fewer than tokenizer {} it should extend ({})", to.hash,
                                pieces.size(), from.hash, first));
  }
  std::vector<std::string> added;
  for (size_t id = first; id < pieces.size(); ++id) added.push_back(pieces[id].text);
  return data::spell_pieces(old_tokenizer, added);
}

}  // namespace

std::optional<registry::TokenizerRow> prepare_phase_tokenizer(RunContext& ctx, const registry::PhaseRow& phase) {
  if (ctx.config.tokenizer.grow_pieces <= 0 || phase.idx == 0) return std::nullopt;
  auto& db = ctx.registry();
  const auto previous = ctx.phase_tokenizer(phase.idx - 1);
  const auto distribution = registry::find_distribution(db, phase.distribution_id);
  if (!distribution) {
    throw RegistryError(fmt::format("run '{}': phase {} points at a missing distribution", ctx.run.name, phase.idx));
  }
  registry::TokenizerRow tokenizer = previous;
  if (std::find(previous.trained_on.begin(), previous.trained_on.end(), distribution->name) ==
      previous.trained_on.end()) {
    data::VocabularyGrowthSpec spec;
    spec.distribution = distribution->name;
    spec.pieces = static_cast<uint32_t>(ctx.config.tokenizer.grow_pieces);
    spec.sample_bytes = static_cast<uint64_t>(ctx.config.tokenizer.sample_mb * 1e6);
    spec.seed = ctx.config.seed;
    log::info("phase {} ({}): growing the vocabulary: training a {}-piece tokenizer on it", phase.idx,
              distribution->name, spec.pieces);
    const auto grown = data::grow_vocabulary(db, previous, spec);
    tokenizer = grown.tokenizer;
    log::info("phase {} ({}): {} new pieces in {:.1f} s (tokenizer {}, {} pieces)", phase.idx, distribution->name,
              grown.added.size(), grown.seconds, tokenizer.hash, tokenizer.vocab_size.value_or(0));
  }
  data::ensure_tokenized(db, phase.distribution_id, tokenizer.id);
  return tokenizer;
}

void adopt_phase_tokenizer(RunContext& ctx, const registry::PhaseRow& phase, const registry::TokenizerRow& tokenizer,
                           model::MoeTransformer& model) {
  const auto previous = ctx.phase_tokenizer(phase.idx - 1);
  const int64_t before = model.config().vocab_size;
  registry::set_phase_tokenizer(ctx.registry(), phase.id, tokenizer.id);
  ctx.enter_phase(phase.idx);
  if (tokenizer.id == previous.id) return;
  model::grow_vocabulary(model, new_piece_spellings(ctx, previous, tokenizer));
  if (model.config().vocab_size != ctx.model_config.vocab_size) {
    throw DataError(fmt::format("phase {}: the model grew to {} rows, but tokenizer {} has {} pieces", phase.idx,
                                model.config().vocab_size, tokenizer.hash, ctx.model_config.vocab_size));
  }
  const std::string message =
      fmt::format("vocabulary grown from {} to {} pieces (tokenizer {}, trained on {})", before,
                  model.config().vocab_size, tokenizer.hash, fmt::join(tokenizer.trained_on, ", "));
  log::info("phase {}: {}", phase.idx, message);
  registry::record_event(ctx.registry(), {.run_id = ctx.run.id, .phase_id = phase.id, .level = log::Level::kInfo,
                                          .kind = "vocabulary_grown", .message = message});
}

void grow_to_phase_vocabulary(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model) {
  if (!phase_grew_vocabulary(ctx, phase.idx)) return;
  const int64_t known = model.config().vocab_size;
  model::grow_vocabulary(model,
                         new_piece_spellings(ctx, ctx.phase_tokenizer(phase.idx - 1), ctx.phase_tokenizer(phase.idx)));
  model.limit_output_vocabulary(known);
}

bool phase_grew_vocabulary(const RunContext& ctx, int64_t phase_idx) {
  return phase_idx > 0 && ctx.phase_vocab_size(phase_idx) > ctx.phase_vocab_size(phase_idx - 1);
}

}  // namespace grove::orch
