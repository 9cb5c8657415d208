// Generated rehearsal: the earlier distributions' documents are gone, but the previous phase's model still knows
// them. Before a phase trains, that model writes a pool of token windows for each earlier distribution: each window
// is a few independent samples of `segment` tokens, each starting from a token drawn by the distribution's token
// frequencies (kept in its sketch, orchestrator/distribution_sketch.h) and continued as the model samples it
// (temperature 1). Every training batch then carries a share of rows from the pool; on them the model in training is
// distilled towards the previous phase's model (training_loss: KL at temperature 1), while the other rows train on
// the new data. The distillation reaches every trainable weight, so the shared weights may train and still keep
// what the earlier distributions need. No document of an earlier distribution is kept or read.
// The pool is written to <run_dir>/rehearsal/phase-<idx>.safetensors before the phase's first step, so a resumed
// phase reads the same rows (and a run's folder shows what the model was reminded of).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "data_streams/token_batch.h"
#include "model/moe_transformer.h"

namespace grove::orch {

struct RehearsalSettings {
  int64_t rows = 64;     // windows in the pool, dealt round-robin to the earlier distributions
  int64_t width = 129;   // tokens per window (training seq_len + 1)
  int64_t segment = 64;  // tokens sampled from one start token (a token's forward each, keys and values cached)
  uint64_t seed = 0;
  bool bf16_autocast = false;
};

// The pool: [rows, width] int64 on the CPU. `start_weights`: one [V] tensor of non-negative token weights per
// earlier distribution (its token counts), each with a positive sum. `model` is sampled in eval mode without
// gradients on `device` (its own); on CUDA the default CUDA generator is seeded from settings.seed.
torch::Tensor generate_rehearsal_pool(model::MoeTransformer& model, const std::vector<torch::Tensor>& start_weights,
                                      const RehearsalSettings& settings);

// How many of a batch's `batch_rows` rows come from the pool for `share`: at least one when the share is positive,
// never all of them.
int64_t rehearsal_rows(int64_t batch_rows, double share);

// `base` yields batches of batch_rows - rehearsal rows windows of the new data; the result appends `rehearsal`
// rows from `pool` to each (batch i takes pool rows i·r … i·r + r - 1, modulo the pool), with their targets masked
// out of the language-model loss (they are distilled instead: training_loss reads the last rows as rehearsal).
data::BatchSource with_rehearsal_rows(data::BatchSource base, torch::Tensor pool, int64_t rehearsal);

// <run_dir>/rehearsal/phase-<idx>.safetensors.
std::filesystem::path rehearsal_pool_path(const std::filesystem::path& run_dir, int64_t phase_idx);

// Atomic write; a read checks the shape ([rows, width]) and that every id is below `vocab_size`. Problems are
// CheckpointErrors naming the file.
void save_rehearsal_pool(const std::filesystem::path& path, const torch::Tensor& pool);
torch::Tensor load_rehearsal_pool(const std::filesystem::path& path, int64_t rows, int64_t width, int64_t vocab_size);

}  // namespace grove::orch
