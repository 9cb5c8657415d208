// The forward, loss and backward of a training step captured once as a CUDA graph (model/cuda_graph.h) and
// replayed at every later step with the same batch shape: the host then launches one graph instead of about two
// thousand kernels, which otherwise leaves the GPU idle for milliseconds per step (docs/PERFORMANCE.md). The
// optimizer stays outside the graph (its learning rate changes every step) and reads the gradients each replay
// leaves in .grad. orch::Trainer (training.cuda_graphs) and bench/train_step_bench (case e16-graph) both use it,
// so what is timed is what trains.
//
// While a CapturedStep is alive the trainable parameters' .grad tensors belong to its graph: nothing may reset or
// replace them between replays (AdamW::zero_grad); the captured work resets them itself before its backward.
// Destroy the CapturedStep first, then zero the gradients, to go back to eager steps. Frozen expert weights are read
// as they were at capture (the MoE layers' cached weight stacks, model/expert_stack_cache.h): destroy the
// CapturedStep before changing them too (the trainer does, before it restores a checkpoint).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "model/cuda_graph.h"
#include "model/moe_transformer.h"
#include "orchestrator/training_loss.h"

namespace grove::orch {

class CapturedStep {
 public:
  // Resets the gradients, computes the step's losses from tokens [B, T+1] and mask [B, T] and calls backward.
  using Work = std::function<TrainingLoss(const torch::Tensor& tokens, const torch::Tensor& mask)>;

  // Why a step of `model` on `device` (under bf16 autocast or not) cannot be captured ("" when it can): not a CUDA
  // device or build; router noise (random numbers the graph would replay unchanged); or experts that would take the
  // per-expert loop, which reads their token counts on the host (fp32 compute, a LibTorch without a native grouped
  // GEMM, widths not a multiple of 8, 1024 experts or more: model/expert_dispatch.h). Predicting these matters: a
  // capture that fails part-way leaves LibTorch's graph memory pool behind.
  static std::string why_not(const model::MoeTransformer& model, const torch::Device& device, bool bf16_autocast);

  // Copies tokens and mask into buffers of its own, runs `work` on them `warmup` times, then captures it. The step
  // itself has not run when this returns: call replay. Throws std::runtime_error when capture fails (the caller
  // then zeroes the gradients and steps eagerly).
  CapturedStep(Work work, const torch::Tensor& tokens, const torch::Tensor& mask, int warmup = 2);

  // Whether a batch has the captured shapes, dtypes and device.
  bool fits(const torch::Tensor& tokens, const torch::Tensor& mask) const;

  // Copies the batch into the buffers (on the current stream, asynchronously) and replays the step; the returned
  // losses are tensors of the graph, rewritten by the next replay.
  TrainingLoss replay(const torch::Tensor& tokens, const torch::Tensor& mask);

 private:
  torch::Tensor tokens_, mask_;
  TrainingLoss losses_;
  std::unique_ptr<model::CapturedWork> graph_;
};

}  // namespace grove::orch
