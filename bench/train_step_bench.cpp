// Times Grove's whole training step: MoeTransformer forward under bf16 autocast, the trainer's loss
// (orch::training_loss: masked cross-entropy + router losses), backward, clipping and Grove's AdamW
// (orch::AdamW::clip_and_step, fused on CUDA), zero_grad — the calls orch::Trainer makes each step.
// Cases (Mixtral-architecture shapes of the GPU targets, d 768, 12 layers, 12 heads, f 2048, top-2, vocab 32000,
// batch 16 x 1024):
//   e16      16 experts, everything trainable
//   e64      64 experts, everything trainable (same top-k and active parameters)
//   grown    16 base + 8 new experts (two groups), everything trainable
//   frozen   the same model in a Grove growth phase: old experts and shared weights frozen, gate + new experts train
//   e16-aten e16 with every fused CUDA kernel switched off (model/fused_switch.h: expert SwiGLU, widening, gather,
//            combine and stacking, rotary, cross-entropy run as ATen kernels): what they buy, in the same run
//   e16-graph e16 with forward + loss + backward captured once as a CUDA graph and replayed (orch::CapturedStep,
//            what orch::Trainer does with training.cuda_graphs; CUDA only): what host launch time costs e16
//   e64-aten-adamw e64 with ATen's _fused_adamw_ instead of Grove's one-launch AdamW kernel (CUDA only): what that
//            kernel buys where the optimizer costs most
//   e16-widened, e64-widened  e16 and e64 with the expert weights' gradients widened to fp32 through autograd
//            (model::ExpertGradients::kParameterDtype) instead of left in bf16 for the optimizer: what that buys
//   e16-growth, e64-growth  16 and 64 experts in a Grove growth phase: the 8 newest experts and the gate train,
//            the older experts and the shared weights are frozen (8 + 8 and 56 + 8): growth as Grove runs it
// Timed with CUDA events per step: warm-up, then the median of --iters steps. Prints one table row per case and,
// with --tsv, writes them for bench/side_by_side.py. On the CPU it runs a small shape (d 64, 2 layers) instead.
// With --trace DIR (CUDA builds), a few more steps per case run under Kineto and DIR/CASE.trace.json receives the
// Chrome trace, phases marked grove::forward_and_loss / grove::backward / grove::optimizer inside grove::step;
// bench/trace_summary.py turns it into per-phase, per-operator and per-kernel times.
//   train_step_bench [--device cuda|cpu] [--cases e16,e64,...] [--batch B] [--seq T] [--iters N]
//                    [--warmup N] [--tsv FILE] [--trace DIR] [--trace-steps N]
#include <ATen/record_function.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "bench/device_memory.h"
#include "bench/flop_count.h"
#include "bench/kernel_trace.h"
#include "bench/tsv_output.h"
#include "model/fused_experts.h"
#include "model/moe_transformer.h"
#include "model/torch_compat.h"
#include "orchestrator/adamw.h"
#include "orchestrator/captured_step.h"
#include "orchestrator/training_loss.h"

using namespace grove;
using model::MoeTransformer;

namespace {

struct Case {
  std::string name;
  std::vector<int64_t> groups;
  bool frozen;         // Grove's growth phase: gate all, shared frozen, newest experts only
  bool fused = true;   // Grove's fused CUDA kernels (model/fused_switch.h) on
  bool graph = false;  // forward + loss + backward replayed as a captured CUDA graph (orch::CapturedStep)
  bool grove_adamw = true;  // Grove's AdamW kernel on CUDA (false: ATen's _fused_adamw_)
  // Expert weight gradients left in bf16 for the optimizer (the trainer's way), or widened to fp32 through autograd.
  model::ExpertGradients expert_gradients = model::ExpertGradients::kGemmDtype;
};

const std::vector<Case> kCases{{"e16", {16}, false},         {"e64", {64}, false},
                               {"grown", {16, 8}, false},    {"frozen", {16, 8}, true},
                               {"e16-aten", {16}, false, false}, {"e16-graph", {16}, false, true, true},
                               {"e64-aten-adamw", {64}, false, true, false, false},
                               {"e16-growth", {8, 8}, true},  {"e64-growth", {56, 8}, true},
                               {"e16-widened", {16}, false, true, false, true, model::ExpertGradients::kParameterDtype},
                               {"e64-widened", {64}, false, true, false, true, model::ExpertGradients::kParameterDtype}};

struct Result {
  double median_ms = 0, min_ms = 0;
  double forward_backward_ms = 0;  // median of forward + loss + backward alone (a second pass of steps)
  int64_t peak_bytes = -1, optimizer_bytes = 0, trainable = 0, parameters = 0;
  double last_loss = 0;
};

model::ModelConfig step_config(const grove::bench::StepShape& s, int64_t experts) {
  model::ModelConfig config;
  config.vocab_size = s.vocab;
  config.d_model = s.d_model;
  config.n_layers = s.n_layers;
  config.n_heads = s.n_heads;
  config.n_kv_heads = s.n_kv_heads;
  config.head_dim = s.head_dim;
  config.d_expert = s.d_expert;
  config.n_experts = experts;
  config.top_k = s.top_k;
  config.max_seq_len = s.seq_len;
  return config;
}

// Parameters drawn on the device (Grove's seeded CPU initialisation of 3.6 billion values would take minutes):
// norms 1, everything else N(0, init_std), from a generator seeded per case.
void initialise_on_device(MoeTransformer& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::globalContext().defaultGenerator(model.device()).clone();
  generator.set_current_seed(seed);
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, "_norm") == 0) {
      item.value().fill_(1.0);
    } else {
      item.value().normal_(0.0, model.config().init_std, generator);
    }
  }
}

Result time_case(const Case& c, const grove::bench::StepShape& shape, int64_t batch, const torch::Device& device,
                 int warmup, int iters, const std::string& trace_path, int trace_steps) {
  const model::fused::ScopedSwitch fused_kernels(c.fused);
  auto model = std::make_shared<MoeTransformer>(step_config(shape, c.groups.front()), c.groups, /*initialise=*/false);
  model->to(device);
  initialise_on_device(*model, 17);
  model::TrainablePolicy policy{model::GatePolicy::kAll, model::SharedPolicy::kTrainable, model::ExpertPolicy::kAll,
                                std::nullopt};
  if (c.frozen) {
    policy = {model::GatePolicy::kAll, model::SharedPolicy::kFrozen, model::ExpertPolicy::kNewest, std::nullopt};
  }
  model->apply_trainable_policy(policy);
  model->train();
  orch::AdamWOptions adamw_options;
  adamw_options.grove_kernel = c.grove_adamw;
  orch::AdamW optimizer(model->named_trainable_parameters(), adamw_options);

  // A few distinct random batches, rotated, so no step reuses the previous one's data.
  at::Generator generator = at::globalContext().defaultGenerator(device).clone();
  generator.set_current_seed(23);
  std::vector<torch::Tensor> batches;
  for (int i = 0; i < 4; ++i) {
    batches.push_back(torch::randint(shape.vocab, {batch, shape.seq_len + 1}, generator,
                                     torch::TensorOptions().dtype(torch::kLong).device(device)));
  }
  const torch::Tensor mask = torch::ones({batch, shape.seq_len}, torch::TensorOptions().dtype(torch::kBool).device(device));
  orch::TrainingLossOptions loss_options;
  loss_options.bf16_autocast = device.is_cuda();
  loss_options.expert_gradients = c.expert_gradients;

  Result result;
  compat::DeviceTimer timer(device);
  std::vector<double> samples, forward_backward;
  torch::Tensor last_lm;  // the language-model part of the last step's loss, reported
  // Forward + loss + backward as orch::Trainer runs them (gradients reset first), phases marked for the Kineto trace.
  auto gradients = [&](const torch::Tensor& tokens, const torch::Tensor& step_mask) {
    optimizer.zero_grad();
    orch::TrainingLoss loss;
    {
      RECORD_USER_SCOPE("grove::forward_and_loss");
      loss = orch::training_loss(*model, nullptr, tokens.slice(1, 0, shape.seq_len),
                                 tokens.slice(1, 1, shape.seq_len + 1), step_mask, loss_options);
    }
    RECORD_USER_SCOPE("grove::backward");
    loss.total.backward();
    return loss;
  };
  // The graph case captures exactly that (orch::CapturedStep, as the trainer does with training.cuda_graphs).
  // Its memory is allocated while it is captured, so for this case the peak counts from before the capture.
  std::unique_ptr<orch::CapturedStep> captured;
  if (c.graph) {
    grove::bench::reset_peak_memory(device);
    captured = std::make_unique<orch::CapturedStep>(gradients, batches[0], mask);
  }
  // One training step. With `time_compute`, the timer stops (and synchronises) after the backward and the optimizer
  // runs untimed; otherwise nothing synchronises inside the step, as in the trainer, and the caller stops the timer
  // after it.
  auto step = [&](const torch::Tensor& tokens, bool time_compute) {
    double compute_ms = 0;
    last_lm = (captured ? captured->replay(tokens, mask) : gradients(tokens, mask)).lm.detach();
    if (time_compute) compute_ms = timer.stop_ms();
    {
      RECORD_USER_SCOPE("grove::optimizer");
      optimizer.clip_and_step(3e-4, 1.0);
      if (!captured) optimizer.zero_grad();  // a captured step's gradients belong to its graph
    }
    return compute_ms;
  };
  // Pass 1 times whole steps; pass 2 times forward + loss + backward alone (the optimizer still runs, untimed),
  // which shows what the compute per token costs apart from the per-parameter optimizer work.
  for (int i = 0; i < warmup + 2 * iters; ++i) {
    if (i == warmup && !captured) grove::bench::reset_peak_memory(device);
    const bool whole_step = i < warmup + iters;
    const torch::Tensor& tokens = batches[static_cast<size_t>(i) % batches.size()];
    timer.start();
    if (whole_step) {
      step(tokens, false);
      const double ms = timer.stop_ms();
      if (i >= warmup) samples.push_back(ms);
    } else {
      forward_backward.push_back(step(tokens, true));
      compat::synchronize(device);
    }
  }
  if (!trace_path.empty()) {
    grove::bench::start_kernel_trace();
    for (int i = 0; i < trace_steps; ++i) {
      RECORD_USER_SCOPE("grove::step");
      timer.start();
      step(batches[static_cast<size_t>(i) % batches.size()], false);
      timer.stop_ms();
    }
    grove::bench::stop_kernel_trace(trace_path);
  }
  std::sort(samples.begin(), samples.end());
  std::sort(forward_backward.begin(), forward_backward.end());
  result.median_ms = samples[samples.size() / 2];
  result.min_ms = samples.front();
  result.forward_backward_ms = forward_backward[forward_backward.size() / 2];
  result.peak_bytes = grove::bench::peak_memory_bytes(device);
  result.optimizer_bytes = optimizer.state_bytes();
  for (const auto& p : model->trainable_parameters()) result.trainable += p.numel();
  result.parameters = model->parameter_count();
  result.last_loss = last_lm.item<double>();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Grove training step benchmark (forward, loss, backward, clipping, AdamW)"};
  std::string device_name = compat::cuda_available() ? "cuda" : "cpu";
  std::string cases_arg;
  std::string tsv_path;
  int64_t batch = 0, seq = 0;
  int warmup = 3, iters = 8;
  app.add_option("--device", device_name, "cuda or cpu (default: cuda when available)")
      ->check(CLI::IsMember({"cuda", "cpu"}));
  app.add_option("--cases", cases_arg,
                 "Comma-separated: e16, e64, grown, frozen, e16-aten, e16-graph, e64-aten-adamw, e16-growth, "
                 "e64-growth, e16-widened, e64-widened (default: all; e16-graph, e64-aten-adamw and the widened "
                 "cases on CUDA only)");
  app.add_option("--batch", batch, "Sequences per step (default 16 on CUDA, 2 on the CPU)");
  app.add_option("--seq", seq, "Tokens per sequence (default 1024 on CUDA, 64 on the CPU)");
  app.add_option("--iters", iters, "Timed steps (median reported)")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "Untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--tsv", tsv_path, "Also write the rows as tab-separated values to this file");
  std::string trace_dir;
  int trace_steps = 3;
  app.add_option("--trace", trace_dir,
                 "After timing, record --trace-steps more steps of each case with Kineto into DIR/CASE.trace.json "
                 "(CUDA builds only)");
  app.add_option("--trace-steps", trace_steps, "Steps recorded per case with --trace")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!trace_dir.empty()) {
    if (!grove::bench::kernel_trace_available()) {
      fmt::print(stderr, "train_step_bench: --trace needs a LibTorch build with CUDA; this build has none\n");
      return 2;
    }
    std::error_code error;
    std::filesystem::create_directories(trace_dir, error);
    if (error) {
      fmt::print(stderr, "train_step_bench: cannot create trace folder '{}': {}\n", trace_dir, error.message());
      return 2;
    }
  }

  const torch::Device device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
  grove::bench::StepShape shape{32000, 768, 12, 12, 12, 64, 2048, 16, 2, seq > 0 ? seq : 1024};
  if (!device.is_cuda()) shape = {512, 64, 2, 4, 4, 16, 128, 16, 2, seq > 0 ? seq : 64};
  if (batch <= 0) batch = device.is_cuda() ? 16 : 2;

  std::unique_ptr<std::ofstream> tsv;
  if (!grove::bench::open_tsv("train_step_bench", tsv_path,
                              "case\texperts\ttrainable_experts\tmedian_ms\tmin_ms\tfwd_bwd_ms\ttokens_per_s\ttflops"
                              "\tmfu\tpeak_gib\toptimizer_gib\ttrainable_params\tparams\tloss\n",
                              tsv)) {
    return 2;
  }
  fmt::print("LibTorch {}, device {}, d {} layers {} heads {} f {} top-{} vocab {}, batch {} x {}, warm-up {}, "
             "median of {}\n",
             compat::torch_version(), device.str(), shape.d_model, shape.n_layers, shape.n_heads, shape.d_expert,
             shape.top_k, shape.vocab, batch, shape.seq_len, warmup, iters);
  fmt::print("{:<14} {:>7} {:>10} {:>10} {:>10} {:>11} {:>8} {:>6} {:>9} {:>9} {:>8}\n", "case", "experts",
             "median ms", "min ms", "fwd+bwd ms", "tokens/s", "TFLOP/s", "MFU", "peak GiB", "optim GiB", "loss");
  if (cases_arg.empty()) {
    cases_arg = "e16,e64,grown,frozen,e16-aten,e16-growth,e64-growth";
    if (model::CapturedWork::available(device)) cases_arg += ",e16-graph,e64-aten-adamw,e16-widened,e64-widened";
  }
  std::stringstream list(cases_arg);
  for (std::string name; std::getline(list, name, ',');) {
    const auto it = std::find_if(kCases.begin(), kCases.end(), [&](const Case& c) { return c.name == name; });
    if (it == kCases.end()) {
      fmt::print(stderr,
                 "train_step_bench: unknown case '{}' (e16, e64, grown, frozen, e16-aten, e16-graph, e64-aten-adamw, "
                 "e16-growth, e64-growth, e16-widened, e64-widened)\n",
                 name);
      return 2;
    }
    if ((it->graph || !it->grove_adamw) && !model::CapturedWork::available(device)) {
      fmt::print(stderr, "train_step_bench: case '{}' needs a CUDA device and a LibTorch build with CUDA\n", name);
      return 2;
    }
    int64_t experts = 0;
    for (const int64_t g : it->groups) experts += g;
    grove::bench::StepShape case_shape = shape;
    case_shape.experts = experts;
    const std::string trace_path = trace_dir.empty() ? "" : fmt::format("{}/{}.trace.json", trace_dir, it->name);
    const Result r = time_case(*it, case_shape, batch, device, warmup, iters, trace_path, trace_steps);
    const double tokens = static_cast<double>(batch * shape.seq_len);
    const double tokens_per_s = tokens / (r.median_ms / 1e3);
    // Model FLOPs of a full training step; the frozen case skips weight gradients, so its MFU is not comparable.
    const double tflops = grove::bench::training_flops_per_token(case_shape) * tokens_per_s / 1e12;
    const double mfu = it->frozen ? 0.0 : tflops / grove::bench::kMatmulCeilingTflops;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    const double peak = r.peak_bytes < 0 ? -1.0 : static_cast<double>(r.peak_bytes) / gib;
    fmt::print("{:<14} {:>7} {:>10.2f} {:>10.2f} {:>10.2f} {:>11.0f} {:>8.1f} {:>5.1f}% {:>9.2f} {:>9.2f} {:>8.4f}\n",
               it->name, experts, r.median_ms, r.min_ms, r.forward_backward_ms, tokens_per_s, tflops, 100.0 * mfu,
               peak, static_cast<double>(r.optimizer_bytes) / gib, r.last_loss);
    if (tsv) {
      const int64_t trainable_experts = it->frozen ? it->groups.back() : experts;
      *tsv << fmt::format("{}\t{}\t{}\t{:.3f}\t{:.3f}\t{:.3f}\t{:.0f}\t{:.1f}\t{:.4f}\t{:.2f}\t{:.3f}\t{}\t{}\t{:.4f}\n",
                          it->name, experts, trainable_experts, r.median_ms, r.min_ms, r.forward_backward_ms,
                          tokens_per_s, tflops, mfu, peak,
                          static_cast<double>(r.optimizer_bytes) / gib, r.trainable, r.parameters, r.last_loss);
    }
  }
  return 0;
}
