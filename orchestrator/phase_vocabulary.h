// Vocabulary growth at a phase's start (tokenizer.grow_pieces > 0): a phase whose distribution the tokenizer in effect
// was not trained on gets a tokenizer grown by that distribution's pieces (data_streams/vocabulary_growth.h), and the
// model gets their embedding and LM-head rows (model/vocabulary_growth.h). Old ids keep their pieces and rows.
// In two steps around the phase's start transaction: the tokenizer is trained, registered and the distribution
// tokenized before it (registry objects any run may share, each written atomically, like ingest's), and only inside
// it does the phase record its tokenizer and the model grow, so a crash in between leaves the phase pending.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/moe_transformer.h"
#include "orchestrator/run_context.h"
#include "registry/phases.h"

namespace grove::orch {

// The tokenizer phase `phase` trains with when vocabulary growth is on (the grown one, or the one in effect when
// its distribution is covered), registered and with the distribution tokenized under it; nullopt when growth is
// off or `phase` is the base phase. Called before the phase's start transaction.
std::optional<registry::TokenizerRow> prepare_phase_tokenizer(RunContext& ctx, const registry::PhaseRow& phase);

// Inside the start transaction: records `tokenizer` as the phase's, switches `ctx` to it and appends the new
// pieces' rows to `model` (which holds the previous phase's vocabulary). Logs what grew.
void adopt_phase_tokenizer(RunContext& ctx, const registry::PhaseRow& phase, const registry::TokenizerRow& tokenizer,
                           model::MoeTransformer& model);

// Grows `model` (the previous phase's vocabulary) to phase `phase`'s, with the rows adopt_phase_tokenizer gave the
// student: what a teacher loaded from the previous phase needs to read the phase's token ids. Its outputs stay the
// old vocabulary (model::MoeTransformer::limit_output_vocabulary): distillation and generated rehearsal teach what it
// knew, never the new rows' untrained guesses. No-op when the phase did not grow its vocabulary.
void grow_to_phase_vocabulary(RunContext& ctx, const registry::PhaseRow& phase, model::MoeTransformer& model);

// Whether phase `phase` added pieces to the vocabulary (its model has more rows than the previous phase's).
bool phase_grew_vocabulary(const RunContext& ctx, int64_t phase_idx);

}  // namespace grove::orch
