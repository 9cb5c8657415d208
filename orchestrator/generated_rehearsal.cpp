#include "orchestrator/generated_rehearsal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/errors.h"
#include "model/tensor_io.h"
#include "model/torch_compat.h"
#include "orchestrator/atomic_tensor_file.h"
#include "orchestrator/evaluator.h"

namespace grove::orch {
namespace {

// Sequences sampled together: keeps one step's logits ([sequences, V]) near 2^26 elements.
int64_t sequences_per_chunk(int64_t vocab) {
  return std::clamp<int64_t>((int64_t{1} << 26) / std::max<int64_t>(1, vocab), 1, 4096);
}

}  // namespace

torch::Tensor generate_rehearsal_pool(model::MoeTransformer& model, const std::vector<torch::Tensor>& start_weights,
                                      const RehearsalSettings& settings) {
  if (start_weights.empty()) throw std::invalid_argument("generated rehearsal: no earlier distribution to write for");
  if (settings.rows < 1 || settings.width < 2 || settings.segment < 1) {
    throw std::invalid_argument(fmt::format("generated rehearsal: rows {}, width {}, segment {}: expected ≥ 1, ≥ 2, ≥ 1",
                                            settings.rows, settings.width, settings.segment));
  }
  const auto device = model.device();
  const int64_t segment = std::min(settings.segment, settings.width);
  const int64_t per_row = (settings.width + segment - 1) / segment;
  const auto n_distributions = static_cast<int64_t>(start_weights.size());
  auto cpu = at::detail::createCPUGenerator(settings.seed);

  // Start tokens: row r writes for distribution r mod n, each of its segments from that distribution's frequencies.
  torch::Tensor starts = torch::empty({settings.rows, per_row}, torch::kLong);
  for (int64_t d = 0; d < n_distributions; ++d) {
    const auto rows = torch::arange(d, settings.rows, n_distributions, torch::kLong);
    if (rows.numel() == 0) continue;
    const auto weights = start_weights[static_cast<size_t>(d)].to(torch::kCPU, torch::kDouble).clamp_min(0);
    if (weights.sum().item<double>() <= 0) {
      throw std::invalid_argument(fmt::format("generated rehearsal: distribution {} has no token to start from", d));
    }
    const auto drawn = torch::multinomial(weights, rows.numel() * per_row, /*replacement=*/true, cpu);
    starts.index_put_({rows}, drawn.view({rows.numel(), per_row}));
  }

  const torch::Tensor flat_starts = starts.reshape({-1, 1});
  const int64_t sequences = flat_starts.size(0);
  if (device.is_cuda()) torch::cuda::manual_seed_all(settings.seed);
  EvalModeScope eval(model);
  torch::NoGradGuard no_grad;
  compat::AutocastGuard autocast(device.type(), torch::kBFloat16, settings.bf16_autocast);
  std::vector<torch::Tensor> written;
  const int64_t chunk = sequences_per_chunk(model.config().vocab_size);
  for (int64_t first = 0; first < sequences; first += chunk) {
    model::KeysValuesCache cache;  // each step reads the cached prefix: sampling costs one token's forward a token
    model::ForwardOptions forward;
    forward.cache = &cache;
    std::vector<torch::Tensor> columns{flat_starts.slice(0, first, std::min(sequences, first + chunk)).to(device)};
    for (int64_t t = 1; t < segment; ++t) {
      const auto logits = model.forward(columns.back(), forward).logits.select(1, -1).to(torch::kFloat);
      const auto probs = torch::softmax(logits, -1);
      columns.push_back(device.is_cpu() ? torch::multinomial(probs, 1, false, cpu) : torch::multinomial(probs, 1));
    }
    written.push_back(torch::cat(columns, 1).cpu());
  }
  return torch::cat(written, 0).reshape({settings.rows, per_row * segment}).slice(1, 0, settings.width).contiguous();
}

int64_t rehearsal_rows(int64_t batch_rows, double share) {
  if (share <= 0 || batch_rows < 2) return 0;
  const auto rows = static_cast<int64_t>(std::llround(share * static_cast<double>(batch_rows)));
  return std::clamp<int64_t>(rows, 1, batch_rows - 1);
}

data::BatchSource with_rehearsal_rows(data::BatchSource base, torch::Tensor pool, int64_t rehearsal) {
  if (!pool.defined() || pool.dim() != 2 || pool.size(0) < 1 || rehearsal < 1) {
    throw std::invalid_argument("with_rehearsal_rows: expected a [rows, width] pool and at least one rehearsal row");
  }
  pool = pool.to(torch::kCPU, torch::kLong).contiguous();
  return [base = std::move(base), pool, rehearsal](uint64_t index) -> std::optional<data::TokenBatch> {
    auto batch = base(index);
    if (!batch) return batch;
    if (batch->width != pool.size(1)) {
      throw std::logic_error(fmt::format("with_rehearsal_rows: batches of width {}, pool rows of width {}",
                                         batch->width, pool.size(1)));
    }
    const auto* rows = pool.data_ptr<int64_t>();
    const int64_t pool_rows = pool.size(0), width = batch->width;
    for (int64_t r = 0; r < rehearsal; ++r) {
      const auto source = static_cast<int64_t>((index * static_cast<uint64_t>(rehearsal) + static_cast<uint64_t>(r)) %
                                               static_cast<uint64_t>(pool_rows));
      batch->tokens.insert(batch->tokens.end(), rows + source * width, rows + (source + 1) * width);
    }
    batch->target_mask.resize(batch->target_mask.size() + static_cast<size_t>(rehearsal * (width - 1)), 0);
    batch->rows += rehearsal;
    return batch;
  };
}

std::filesystem::path rehearsal_pool_path(const std::filesystem::path& run_dir, int64_t phase_idx) {
  return run_dir / "rehearsal" / fmt::format("phase-{}.safetensors", phase_idx);
}

void save_rehearsal_pool(const std::filesystem::path& path, const torch::Tensor& pool) {
  write_tensor_file_atomically(path, {{"tokens", pool.to(torch::kLong).contiguous()}},
                               {{"format", "grove-rehearsal-pool-1"}}, "rehearsal pool");
}

torch::Tensor load_rehearsal_pool(const std::filesystem::path& path, int64_t rows, int64_t width,
                                  int64_t vocab_size) {
  torch::Tensor pool;
  try {
    const model::SafetensorsReader reader(path);
    pool = model::read_tensor(reader, "tokens");
  } catch (const std::exception& failure) {
    throw CheckpointError(fmt::format("rehearsal pool {}: {}", path.string(), failure.what()));
  }
  if (pool.sizes() != torch::IntArrayRef({rows, width}) || pool.scalar_type() != torch::kLong) {
    throw CheckpointError(fmt::format("rehearsal pool {}: expected int64 tokens of shape [{}, {}], got {} {}",
                                      path.string(), rows, width, c10::toString(pool.scalar_type()),
                                      c10::str(pool.sizes())));
  }
  if (pool.numel() > 0 && (pool.min().item<int64_t>() < 0 || pool.max().item<int64_t>() >= vocab_size)) {
    throw CheckpointError(fmt::format("rehearsal pool {}: token ids outside [0, {})", path.string(), vocab_size));
  }
  return pool;
}

}  // namespace grove::orch
