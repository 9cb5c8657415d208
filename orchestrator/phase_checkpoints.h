// Checkpoints of a phase on disk and in the registry: where they go (<run_dir>/phase-<idx>/step-<n> and
// .../final, their tensors in the run's blob store <run_dir>/blobs, so tensors that do not change between
// checkpoints are stored once), writing one with the optimizer and TrainingState (plus the router-noise generator
// state on CPU), restoring the newest intact one, and pruning old periodic ones (phase-end checkpoints are always
// kept: the next phase starts from them and the KD teacher is loaded from them; the phase-start one, step 0, is kept
// while the phase trains). Once the phase has moved on to evaluation, its periodic and interrupt checkpoints are
// deleted unless training.keep_finished_phase_checkpoints is set. Pruning deletes the blobs no checkpoint references;
// writing and resuming first remove the temporaries of writers that were killed mid-checkpoint.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "model/moe_transformer.h"
#include "orchestrator/adamw.h"
#include "orchestrator/run_context.h"
#include "orchestrator/trainer.h"
#include "orchestrator/training_state.h"

namespace grove::orch {

class BackgroundCheckpointWriter;

struct PhaseTrainingObjects {
  PhaseTrainingObjects(std::shared_ptr<model::MoeTransformer> model, std::unique_ptr<AdamW> optimizer,
                       TrainingState state, at::Generator noise_generator);

  std::shared_ptr<model::MoeTransformer> model;
  std::unique_ptr<AdamW> optimizer;
  TrainingState state;
  at::Generator noise_generator;  // CPU generator for router noise (CUDA uses the device default)
  // Writes periodic checkpoints after step 0 in the background (orchestrator/background_checkpoint_writer.h); its
  // destructor waits for a write in flight, which then stays unrecorded.
  std::shared_ptr<BackgroundCheckpointWriter> writer;
};

// Writes a checkpoint of `objects` for `phase` and records its row; prunes periodic/interrupt checkpoints of the
// phase beyond training.keep_checkpoints (newest kept). kPhaseEnd writes <phase>/final without optimizer state.
// First waits for the background write in flight and records it. A periodic checkpoint after step 0 is only
// snapshotted here and written in the background: it is recorded (and nullopt returned now) once it is durable, by
// the next call of this function or of restore_newest_intact_checkpoint; its write error is thrown from there.
std::optional<registry::CheckpointRow> save_phase_checkpoint(RunContext& ctx, const registry::PhaseRow& phase,
                                                             PhaseTrainingObjects& objects, CheckpointReason reason);

// Deletes a finished phase's periodic and interrupt checkpoints, rows and folders, unless
// training.keep_finished_phase_checkpoints. Call once the phase is past training (it resumes from its final one);
// idempotent.
void prune_finished_phase(RunContext& ctx, const registry::PhaseRow& phase);

// The newest checkpoint row of a phase (any kind), if any.
std::optional<registry::CheckpointRow> newest_phase_checkpoint(RunContext& ctx, const registry::PhaseRow& phase);
// The phase-end checkpoint of a phase; RegistryError when the phase has none (it is not done).
registry::CheckpointRow phase_end_checkpoint(RunContext& ctx, const registry::PhaseRow& phase);

// Loads a model from a checkpoint row onto the run's device (verifying checksums).
std::shared_ptr<model::MoeTransformer> load_model(RunContext& ctx, const registry::CheckpointRow& row);

// Loads a checkpoint into existing objects (same layout): model values, optimizer state, TrainingState, generator.
void restore_phase_checkpoint(RunContext& ctx, const registry::CheckpointRow& row, PhaseTrainingObjects& objects);

// Restores (after recording the background write in flight) the newest checkpoint of `phase` that loads intact into
// `objects`, first building the model (with the phase's trainable policy) and the optimizer from it when `objects`
// has no model yet. A newer checkpoint that does not load (folder gone, a file or blob truncated or altered) is
// skipped: a 'checkpoint_skipped' warning event names it, why, and the checkpoint resumed from, and its row and folder
// are deleted. RegistryError when the phase has no checkpoint; CheckpointError listing every reason when none loads
// (then nothing is deleted).
registry::CheckpointRow restore_newest_intact_checkpoint(RunContext& ctx, const registry::PhaseRow& phase,
                                                         PhaseTrainingObjects& objects);

// Builds the optimizer over the model's trainable parameters with the run's training settings.
std::unique_ptr<AdamW> make_optimizer(const RunContext& ctx, model::MoeTransformer& model);

}  // namespace grove::orch
