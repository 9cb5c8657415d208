#include "orchestrator/distribution_sketch.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/errors.h"
#include "data_streams/batch_iterator.h"
#include "data_streams/window_sampler.h"
#include "model/tensor_io.h"
#include "orchestrator/atomic_tensor_file.h"
#include "model/torch_compat.h"
#include "orchestrator/evaluator.h"

namespace grove::orch {
namespace {

torch::Tensor count_tokens(const data::ShardReader& train, int64_t vocab_size) {
  torch::Tensor counts = torch::zeros({vocab_size}, torch::kLong);
  constexpr uint64_t kChunk = 1 << 20;
  std::vector<int64_t> ids;
  for (uint64_t begin = 0; begin < train.tokens(); begin += kChunk) {
    const uint64_t count = std::min<uint64_t>(kChunk, train.tokens() - begin);
    ids.resize(count);
    train.copy_tokens(begin, count, ids.data());
    const torch::Tensor chunk = torch::from_blob(ids.data(), {static_cast<int64_t>(count)}, torch::kLong);
    counts += torch::bincount(chunk.clamp(0, vocab_size - 1), {}, vocab_size);
  }
  return counts;
}

// The lower Cholesky factor of `covariance` [d, d] (float64), with a ridge of 1e-4 of the mean variance so that
// directions the data never takes stay representable.
torch::Tensor cholesky_with_ridge(torch::Tensor covariance) {
  const double ridge = 1e-4 * std::max(1e-12, covariance.diagonal().mean().item<double>());
  covariance = covariance + torch::eye(covariance.size(0), covariance.options()) * ridge;
  return torch::linalg_cholesky(covariance).to(torch::kFloat);
}

torch::Tensor outer_sum(const torch::Tensor& x) {
  const torch::Tensor rows = x.reshape({-1, x.size(-1)}).to(torch::kDouble);
  return rows.t().matmul(rows);
}

int64_t rows_of(const torch::Tensor& x) {
  return x.numel() / std::max<int64_t>(1, x.size(-1));
}

}  // namespace

void SketchAccumulator::add(const std::vector<torch::Tensor>& router, const std::vector<torch::Tensor>& attention,
                            const torch::Tensor& head) {
  torch::NoGradGuard no_grad;
  if (router_sum_.empty()) {
    router_sum_.resize(router.size());
    router_outer_.resize(router.size());
    attention_outer_.resize(attention.size());
  }
  TORCH_CHECK(router.size() == router_sum_.size() && attention.size() == attention_outer_.size(),
              "SketchAccumulator::add: the layer count changed between batches");
  auto accumulate = [](torch::Tensor& total, const torch::Tensor& value) {
    total = total.defined() ? total + value : value;
  };
  for (size_t layer = 0; layer < router.size(); ++layer) {
    const torch::Tensor x = router[layer].reshape({-1, router[layer].size(-1)}).to(torch::kDouble);
    accumulate(router_sum_[layer], x.sum(0));
    accumulate(router_outer_[layer], x.t().matmul(x));
    accumulate(attention_outer_[layer], outer_sum(attention[layer]));
  }
  accumulate(head_outer_, outer_sum(head));
  router_rows_ += router.empty() ? 0 : rows_of(router.front());
  attention_rows_ += attention.empty() ? 0 : rows_of(attention.front());
  head_rows_ += rows_of(head);
}

DistributionSketch SketchAccumulator::finish() const {
  TORCH_CHECK(router_rows_ > 1 && head_rows_ > 0, "SketchAccumulator::finish: too few inputs were added");
  DistributionSketch sketch;
  const auto n = static_cast<double>(router_rows_);
  for (size_t layer = 0; layer < router_sum_.size(); ++layer) {
    const torch::Tensor mean = (router_sum_[layer] / n).to(torch::kCPU);
    const torch::Tensor covariance = (router_outer_[layer].to(torch::kCPU) - n * torch::outer(mean, mean)) / (n - 1.0);
    sketch.mean.push_back(mean.to(torch::kFloat).contiguous());
    sketch.factor.push_back(cholesky_with_ridge(covariance).contiguous());
    const torch::Tensor attention = attention_outer_[layer].to(torch::kCPU) / static_cast<double>(attention_rows_);
    sketch.attention_moment.push_back(attention.to(torch::kFloat).contiguous());
  }
  sketch.head_moment = (head_outer_.to(torch::kCPU) / static_cast<double>(head_rows_)).to(torch::kFloat).contiguous();
  return sketch;
}

DistributionSketch sketch_distribution(model::MoeTransformer& model,
                                       const std::shared_ptr<const data::ShardReader>& train,
                                       const SketchSettings& settings, const DevicePlan& plan) {
  EvalModeScope mode(model);
  torch::NoGradGuard no_grad;
  const int64_t width = std::min<int64_t>(settings.seq_len + 1, static_cast<int64_t>(train->tokens()));
  const data::WindowSampler sampler(train, width, settings.seed);
  const int64_t per_batch = settings.batch_size * std::max<int64_t>(1, width - 1);
  const int64_t batches = std::max<int64_t>(1, (settings.tokens + per_batch - 1) / per_batch);
  SketchAccumulator accumulator;
  for (int64_t i = 0; i < batches; ++i) {
    const auto batch = data::to_tensors(sampler.batch(static_cast<uint64_t>(i), settings.batch_size),
                                        static_cast<uint64_t>(i), /*pinned=*/false);
    std::vector<torch::Tensor> router, attention;
    torch::Tensor head;
    {
      compat::AutocastGuard autocast(plan.device.type(), torch::kBFloat16, plan.bf16_autocast);
      model::ForwardOptions options;
      options.router_inputs = &router;
      options.attention_inputs = &attention;
      options.head_input = &head;
      model.forward(batch.inputs.to(plan.device), options);
    }
    accumulator.add(router, attention, head);  // in float64, outside autocast
  }
  DistributionSketch sketch = accumulator.finish();
  sketch.token_counts = count_tokens(*train, model.config().vocab_size);
  return sketch;
}

std::filesystem::path sketch_path(const std::filesystem::path& run_dir, int64_t phase_idx) {
  return run_dir / "sketches" / fmt::format("phase-{}.safetensors", phase_idx);
}

void save_sketch(const std::filesystem::path& path, const DistributionSketch& sketch) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (size_t layer = 0; layer < sketch.mean.size(); ++layer) {
    tensors.emplace_back(fmt::format("layers.{}.mean", layer), sketch.mean[layer]);
    tensors.emplace_back(fmt::format("layers.{}.factor", layer), sketch.factor[layer]);
    tensors.emplace_back(fmt::format("layers.{}.attention_moment", layer), sketch.attention_moment[layer]);
  }
  tensors.emplace_back("head_moment", sketch.head_moment);
  tensors.emplace_back("token_counts", sketch.token_counts);
  write_tensor_file_atomically(path, tensors, {{"format", "grove-distribution-sketch-1"}}, "distribution sketch");
}

DistributionSketch load_sketch(const std::filesystem::path& path, int64_t n_layers, int64_t d_model,
                               int64_t vocab_size) {
  if (!std::filesystem::exists(path)) {
    throw CheckpointError(
        fmt::format("distribution sketch {} is missing: the phase that trained on its distribution "
                    "writes it when it ends; run that phase's evaluation again to rewrite it",
                    path.string()));
  }
  const model::SafetensorsReader reader(path);
  auto read = [&](const std::string& name, const std::vector<int64_t>& shape) {
    const torch::Tensor tensor = model::read_tensor(reader, name);
    if (tensor.sizes() != torch::IntArrayRef(shape)) {
      throw CheckpointError(fmt::format("distribution sketch {}: tensor '{}' has shape {}, expected {}", path.string(),
                                        name, c10::str(tensor.sizes()), c10::str(torch::IntArrayRef(shape))));
    }
    return tensor;
  };
  DistributionSketch sketch;
  for (int64_t layer = 0; layer < n_layers; ++layer) {
    sketch.mean.push_back(read(fmt::format("layers.{}.mean", layer), {d_model}).to(torch::kFloat));
    sketch.factor.push_back(read(fmt::format("layers.{}.factor", layer), {d_model, d_model}).to(torch::kFloat));
    sketch.attention_moment.push_back(
        read(fmt::format("layers.{}.attention_moment", layer), {d_model, d_model}).to(torch::kFloat));
  }
  sketch.head_moment = read("head_moment", {d_model, d_model}).to(torch::kFloat);
  // A sketch written before the vocabulary grew counts fewer tokens: the new pieces' counts are 0 there.
  const torch::Tensor counts = model::read_tensor(reader, "token_counts");
  if (counts.dim() != 1 || counts.size(0) > vocab_size) {
    throw CheckpointError(fmt::format("distribution sketch {}: tensor 'token_counts' has shape {}, expected [n] with "
                                      "n <= {} (the vocabulary)",
                                      path.string(), c10::str(counts.sizes()), vocab_size));
  }
  sketch.token_counts = torch::zeros({vocab_size}, torch::kLong);
  sketch.token_counts.narrow(0, 0, counts.size(0)).copy_(counts.to(torch::kLong));
  return sketch;
}

}  // namespace grove::orch
