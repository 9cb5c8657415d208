// What a phase keeps of its distribution for the phases after it, where its data may be gone: per MoE layer the
// mean and a Cholesky factor of the covariance of the router inputs under the phase's final model, and how often
// each token id occurs in the distribution's training shard. Statistics, not documents (about 2 d^2 floats a layer:
// some 60 MB for 12 layers of d = 768):
// the routing-isolation loss draws synthetic router inputs from them, and the `new_tokens` shared policy reads the
// counts to know which embedding and LM-head rows no earlier distribution used.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "data_streams/shard_reader.h"
#include "model/moe_transformer.h"
#include "orchestrator/device_plan.h"

namespace grove::orch {

struct DistributionSketch {
  std::vector<torch::Tensor> mean;    // router inputs, per layer [d] float32 on the CPU
  std::vector<torch::Tensor> factor;  // router inputs, per layer [d, d] lower triangular: covariance = factor factor^T
  // Second moments E[x x^T] (not centred), [d, d] float32: of each layer's attention input, and of the LM head's
  // input. The `orthogonal` shared policy keeps updates off their principal directions.
  std::vector<torch::Tensor> attention_moment;
  torch::Tensor head_moment;
  torch::Tensor token_counts;  // [V] int64: occurrences of each id in the training shard
};

// Sums over batches of inputs, in float64 on the inputs' device, so that measuring a sketch holds O(layers x d^2)
// memory whatever the number of tokens.
class SketchAccumulator {
 public:
  // One batch: per layer the router inputs [N, d] and attention inputs [..., d], and the LM head's inputs [..., d].
  void add(const std::vector<torch::Tensor>& router, const std::vector<torch::Tensor>& attention,
           const torch::Tensor& head);
  // The sketch of everything added (on the CPU); the token counts are left for the caller.
  DistributionSketch finish() const;

 private:
  std::vector<torch::Tensor> router_sum_, router_outer_, attention_outer_;
  torch::Tensor head_outer_;
  int64_t router_rows_ = 0, attention_rows_ = 0, head_rows_ = 0;
};

struct SketchSettings {
  int64_t seq_len = 128;
  int64_t batch_size = 16;
  int64_t tokens = 16384;  // router inputs measured (windows drawn from the training shard)
  uint64_t seed = 0;
};

// Measures the sketch of `train` under `model` (evaluation mode, no gradients).
DistributionSketch sketch_distribution(model::MoeTransformer& model,
                                       const std::shared_ptr<const data::ShardReader>& train,
                                       const SketchSettings& settings, const DevicePlan& plan);

// Written atomically (temporary file, fsync, rename) as a safetensors file; read back with every shape checked
// against `n_layers` and `d_model`; token counts written under a smaller vocabulary (before it grew) are padded with
// zeros to `vocab_size`. Problems are CheckpointErrors naming the file.
void save_sketch(const std::filesystem::path& path, const DistributionSketch& sketch);
DistributionSketch load_sketch(const std::filesystem::path& path, int64_t n_layers, int64_t d_model,
                               int64_t vocab_size);

// <run_dir>/sketches/phase-<idx>.safetensors: the sketch of the distribution phase `phase_idx` trained on.
std::filesystem::path sketch_path(const std::filesystem::path& run_dir, int64_t phase_idx);

}  // namespace grove::orch
