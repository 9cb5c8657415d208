// Times the MoE block (router + expert dispatch, forward + backward) with the shapes the GPU targets are judged on:
//   olmoe          d 2048, f 1024, 64 experts, top-8
//   mixtral-small  d 1024, f 3584,  8 experts, top-2
// 16,384 tokens, timed with CUDA events (warm-up, then the median of --iters runs), in two precisions (--params):
//   bf16  parameters, activations and gradients in bf16: the setting of the block targets and of the Hugging Face
//         peer (bench/peers/hf_mixtral_bench.py), so the ratio is like for like;
//   fp32  fp32 master parameters under bf16 autocast, as the training step runs: the block reads bf16 rows (the
//         RMSNorm before it writes them so) and returns fp32 (the residual stream's dtype), the per-step bf16
//         stacking of the weights is timed too, and the weights' gradients stay bf16 as the training step leaves
//         them for its optimizer (model::ExpertGradients::kGemmDtype);
// and two ways of launching it (--launch): eager (every kernel launched from the host each time, as the peer does)
// and graph (captured once as a CUDA graph, model/cuda_graph.h, then replayed: no host launch time).
// On the CPU it runs the `small` shape (d 256, f 512, 8 experts, top-2, 2,048 tokens) with fp32 parameters, eager.
//   moe_block_bench [--device cuda|cpu] [--shapes olmoe,mixtral-small|small] [--params bf16,fp32]
//                   [--launch eager,graph] [--tokens N] [--iters N] [--warmup N] [--backend auto|grouped|loop|both]
//                   [--groups G] [--trace DIR]
// --groups splits each layer's experts into G equal groups (as growth does) with all but the newest frozen.
// --check first compares the grouped path with the per-expert loop on each shape (output and every gradient,
// relative error in bf16; plus an expert that receives no token) and exits 1 when they disagree.
// --tsv FILE writes the rows for bench/side_by_side.py. --trace DIR (CUDA builds) records three more passes of each
// row under Kineto into DIR/SHAPE-PARAMS-LAUNCH.trace.json (grove::step around each, grove::forward_and_loss and
// grove::backward inside) for bench/trace_summary.py.
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
#include "model/cuda_graph.h"
#include "model/moe_layer.h"
#include "model/seeded_init.h"
#include "model/torch_compat.h"

using namespace grove::model;
namespace compat = grove::compat;

namespace {

struct Shape {
  std::string name;
  int64_t d, f, experts, top_k, tokens;
};

const std::vector<Shape> kShapes{
    {"olmoe", 2048, 1024, 64, 8, 16384}, {"mixtral-small", 1024, 3584, 8, 2, 16384}, {"small", 256, 512, 8, 2, 2048}};

struct Timing {
  double median_ms = 0, min_ms = 0;
  int64_t peak_bytes = -1;
};

// The parameters' dtype: bf16 throughout, or fp32 masters computed in bf16 under autocast (on CUDA).
enum class Params { kBf16, kFp32 };

std::string_view params_name(Params params) {
  return params == Params::kBf16 ? "bf16" : "fp32";
}

torch::ScalarType params_dtype(Params params) {
  return params == Params::kBf16 ? torch::kBFloat16 : torch::kFloat;
}

// The block's input: bf16 on CUDA (with fp32 masters, what a decoder layer's RMSNorm writes under autocast), the
// parameters' dtype on the CPU.
torch::ScalarType input_dtype(Params params, const torch::Device& device) {
  return device.is_cuda() ? torch::kBFloat16 : params_dtype(params);
}

// `groups` equal groups, all but the newest frozen; router bias on expert 0 of the newest group set to -1e4 when
// `starve_one` (it then receives no token). Initialised in fp32 from fixed seeds, then cast to `params`.
MoeLayer make_layer(const Shape& shape, int64_t groups, const torch::Device& device, bool starve_one, Params params) {
  MoeLayer layer(shape.top_k, 0.0);
  for (int64_t g = 0; g < groups; ++g) {
    ExpertGroup group(shape.experts / groups, shape.d, shape.f, starve_one);
    for (auto& item : group->named_parameters()) {
      if (item.key() == "gate_bias") continue;
      fill_normal_(item.value(), item.key() == "gate_weight" ? 0.5 : 0.02,
                   derive_seed(static_cast<uint64_t>(g), item.key()));
    }
    if (starve_one && g == groups - 1) {
      torch::NoGradGuard no_grad;
      group->gate_bias()[0].fill_(-1e4);
    }
    group->set_experts_trainable(g == groups - 1);
    group->set_gate_trainable(g == groups - 1);
    layer->add_group(group);
  }
  layer->to(device, params_dtype(params));
  return layer;
}

struct Pass {
  torch::Tensor y;
  std::vector<torch::Tensor> grads;  // x, then every parameter (undefined where frozen)
};

// One forward + backward of the block against a fixed upstream gradient, as the peer times it: gradients reset to
// none first, left in .grad after. x as input_dtype() gives it; for fp32 parameters on CUDA autocast is on and the
// output fp32, as in a decoder layer.
torch::Tensor forward_backward(MoeLayerImpl& layer, const torch::Tensor& x, const torch::Tensor& upstream,
                               ExpertBackend backend) {
  layer.zero_grad();
  x.mutable_grad() = torch::Tensor();
  const bool masters = x.is_cuda() && layer.group(0).w1().scalar_type() == torch::kFloat;
  MoeOptions moe_options;
  moe_options.backend = backend;
  if (masters) {
    moe_options.output_dtype = torch::kFloat;
    moe_options.expert_gradients = ExpertGradients::kGemmDtype;
  }
  torch::Tensor y;
  compat::AutocastGuard autocast(x.device().type(), torch::kBFloat16, masters);
  {
    RECORD_USER_SCOPE("grove::forward_and_loss");
    y = layer.forward(x, moe_options).y;
  }
  RECORD_USER_SCOPE("grove::backward");
  (y.to(torch::kFloat) * upstream).sum().backward();
  return y;
}

// forward_backward, then copies of the output and every gradient, for comparing two paths (never timed).
Pass checked_pass(MoeLayerImpl& layer, const torch::Tensor& x, const torch::Tensor& upstream, ExpertBackend backend) {
  Pass pass;
  pass.y = forward_backward(layer, x, upstream, backend);
  pass.grads.push_back(x.grad().clone());
  for (const auto& p : layer.parameters()) {
    pass.grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  }
  return pass;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor ref = b.to(torch::kDouble);
  return ((a.to(torch::kDouble) - ref).norm() / ref.norm().clamp_min(1e-30)).item<double>();
}

// The grouped path against the loop on the same layer and input; prints the worst error, returns false on a
// disagreement, a non-finite value or a gradient present on one path only.
bool check_against_loop(const Shape& shape, int64_t groups, const torch::Device& device, bool starve_one,
                        Params params) {
  MoeLayer layer = make_layer(shape, groups, device, starve_one, params);
  const auto options = torch::TensorOptions().device(device);
  const torch::Tensor x = seeded_normal({shape.tokens, shape.d}, 1.0, 3)
                              .to(options.dtype(input_dtype(params, device)))
                              .requires_grad_(true);
  const torch::Tensor upstream = seeded_normal({shape.tokens, shape.d}, 1.0, 4).to(options);
  const Pass grouped = checked_pass(*layer, x, upstream, ExpertBackend::kGrouped);
  const Pass loop = checked_pass(*layer, x, upstream, ExpertBackend::kLoop);
  const double tolerance = device.is_cuda() ? 2e-2 : 1e-5;
  double worst = relative_error(grouped.y, loop.y);
  bool ok = worst <= tolerance && torch::isfinite(grouped.y).all().item<bool>();
  const auto names = layer->named_parameters().keys();
  for (size_t i = 0; i < grouped.grads.size(); ++i) {
    const std::string what = i == 0 ? "x" : names[i - 1];
    if (grouped.grads[i].defined() != loop.grads[i].defined()) {
      fmt::print("  {}: gradient on one path only\n", what);
      ok = false;
      continue;
    }
    if (!loop.grads[i].defined()) continue;
    if (!torch::isfinite(grouped.grads[i]).all().item<bool>()) {
      fmt::print("  {}: non-finite gradient\n", what);
      ok = false;
      continue;
    }
    const double error = loop.grads[i].abs().max().item<double>() == 0.0
                             ? grouped.grads[i].abs().max().item<double>()
                             : relative_error(grouped.grads[i], loop.grads[i]);
    worst = std::max(worst, error);
    ok = ok && error <= tolerance;
  }
  fmt::print("check {:<14} {} parameters, groups {} {:<18} grouped vs loop: worst relative error {:.2e} -> {}\n",
             shape.name, params_name(params), groups, starve_one ? "(one starved expert)" : "", worst,
             ok ? "ok" : "MISMATCH");
  return ok;
}

// Comma-separated items of a list option.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream stream(list);
  for (std::string item; std::getline(stream, item, ',');) items.push_back(item);
  return items;
}

// With `graphed`, the forward + backward is captured once as a CUDA graph (model/cuda_graph.h) after `warmup` eager
// runs and each timed iteration replays it: what host launch time costs the eager rows.
Timing time_block(const Shape& shape, int64_t groups, ExpertBackend backend, Params params, bool graphed,
                  const torch::Device& device, int warmup, int iters, const std::string& trace_path) {
  MoeLayer layer = make_layer(shape, groups, device, false, params);
  const auto options = torch::TensorOptions().device(device);
  const torch::Tensor x = seeded_normal({shape.tokens, shape.d}, 1.0, 1)
                              .to(options.dtype(input_dtype(params, device)))
                              .requires_grad_(true);
  const torch::Tensor upstream = seeded_normal({shape.tokens, shape.d}, 1.0, 2).to(options);
  // A graph's memory is allocated while it is captured (replays allocate nothing), so its peak counts from before
  // the capture and its eager warm-ups; an eager row's from after its own warm-up.
  std::unique_ptr<CapturedWork> graph;
  if (graphed) {
    grove::bench::reset_peak_memory(device);
    graph = std::make_unique<CapturedWork>([&] { forward_backward(*layer, x, upstream, backend); }, device, warmup);
  }
  auto run = [&] {
    if (graph)
      graph->replay();
    else
      forward_backward(*layer, x, upstream, backend);
  };
  compat::DeviceTimer timer(device);
  std::vector<double> samples;
  for (int i = 0; i < warmup + iters; ++i) {
    if (i == warmup && !graph) grove::bench::reset_peak_memory(device);
    timer.start();
    run();
    const double ms = timer.stop_ms();
    if (i >= warmup) samples.push_back(ms);
  }
  const int64_t peak = grove::bench::peak_memory_bytes(device);
  if (!trace_path.empty()) {
    grove::bench::start_kernel_trace();
    for (int i = 0; i < 3; ++i) {
      RECORD_USER_SCOPE("grove::step");
      timer.start();
      run();
      timer.stop_ms();
    }
    grove::bench::stop_kernel_trace(trace_path);
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples.front(), peak};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MoE block forward+backward benchmark"};
  std::string device_name = compat::cuda_available() ? "cuda" : "cpu";
  std::string shapes_arg;
  std::string backend_arg = "auto";
  std::string params_arg;
  std::string launch_arg;
  std::string trace_dir;
  int64_t tokens = 0, groups = 1;
  int warmup = 3, iters = 10;
  app.add_option("--device", device_name, "cuda or cpu (default: cuda when available)")
      ->check(CLI::IsMember({"cuda", "cpu"}));
  app.add_option("--shapes", shapes_arg,
                 "Comma-separated: olmoe, mixtral-small, small (default: the first two on "
                 "CUDA, small on the CPU)");
  app.add_option("--params", params_arg,
                 "Comma-separated parameter precisions: bf16 (as the peer), fp32 (masters "
                 "under bf16 autocast) (default: bf16,fp32 on CUDA, fp32 on the CPU)");
  app.add_option("--launch", launch_arg,
                 "Comma-separated: eager (every kernel launched from the host, as the peer), graph (captured once "
                 "as a CUDA graph, replayed) (default: eager,graph on CUDA, eager on the CPU)");
  app.add_option("--trace", trace_dir,
                 "After timing, record 3 more passes of each row with Kineto into "
                 "DIR/SHAPE-PARAMS-LAUNCH.trace.json (CUDA builds)");
  app.add_option("--tokens", tokens, "Tokens per step (default: the shape's)");
  app.add_option("--iters", iters, "Timed iterations (median reported)");
  app.add_option("--warmup", warmup, "Untimed iterations first");
  app.add_option("--backend", backend_arg, "auto, grouped, loop or both")
      ->check(CLI::IsMember({"auto", "grouped", "loop", "both"}));
  app.add_option("--groups", groups, "Expert groups per layer (older ones frozen)");
  bool check = false;
  std::string tsv_path;
  app.add_flag("--check", check, "Compare the grouped path with the loop first; exit 1 on a mismatch");
  app.add_option("--tsv", tsv_path, "Also write the rows as tab-separated values to this file");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<std::ofstream> tsv;
  if (!grove::bench::open_tsv(
          "moe_block_bench", tsv_path,
          "shape\td\tf\texperts\ttop_k\ttokens\tgroups\tparams\tlaunch\tbackend\tmedian_ms\tmin_ms\ttflops\tpeak_gib\n",
          tsv)) {
    return 2;
  }

  const torch::Device device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
  if (shapes_arg.empty()) shapes_arg = device.is_cuda() ? "olmoe,mixtral-small" : "small";
  if (params_arg.empty()) params_arg = device.is_cuda() ? "bf16,fp32" : "fp32";
  std::vector<Params> precisions;
  for (const std::string& name : split_list(params_arg)) {
    if (name != "bf16" && name != "fp32") {
      fmt::print(stderr, "moe_block_bench: --params: unknown precision '{}' (expected bf16 or fp32)\n", name);
      return 2;
    }
    precisions.push_back(name == "bf16" ? Params::kBf16 : Params::kFp32);
  }
  if (launch_arg.empty()) launch_arg = device.is_cuda() ? "eager,graph" : "eager";
  std::vector<bool> launches;  // graphed or not
  for (const std::string& name : split_list(launch_arg)) {
    if (name != "eager" && name != "graph") {
      fmt::print(stderr, "moe_block_bench: --launch: unknown mode '{}' (expected eager or graph)\n", name);
      return 2;
    }
    if (name == "graph" && !CapturedWork::available(device)) {
      fmt::print(stderr, "moe_block_bench: --launch graph needs a CUDA device and a LibTorch build with CUDA\n");
      return 2;
    }
    launches.push_back(name == "graph");
  }
  if (!trace_dir.empty()) {
    if (!grove::bench::kernel_trace_available()) {
      fmt::print(stderr, "moe_block_bench: --trace needs a LibTorch build with CUDA; this build has none\n");
      return 2;
    }
    std::error_code error;
    std::filesystem::create_directories(trace_dir, error);
    if (error) {
      fmt::print(stderr, "moe_block_bench: cannot create trace folder '{}': {}\n", trace_dir, error.message());
      return 2;
    }
  }
  std::vector<ExpertBackend> backends;
  if (backend_arg == "both")
    backends = {ExpertBackend::kGrouped, ExpertBackend::kLoop};
  else if (backend_arg == "grouped")
    backends = {ExpertBackend::kGrouped};
  else if (backend_arg == "loop")
    backends = {ExpertBackend::kLoop};
  else
    backends = {ExpertBackend::kAuto};

  fmt::print("LibTorch {}, device {}, {} expert group(s), warm-up {}, median of {}\n", compat::torch_version(),
             device.str(), groups, warmup, iters);
  std::vector<Shape> selected;
  for (const std::string& name : split_list(shapes_arg)) {
    const auto it = std::find_if(kShapes.begin(), kShapes.end(), [&](const Shape& s) { return s.name == name; });
    if (it == kShapes.end()) {
      fmt::print(stderr, "moe_block_bench: unknown shape '{}' (olmoe, mixtral-small, small)\n", name);
      return 2;
    }
    Shape shape = *it;
    if (tokens > 0) shape.tokens = tokens;
    if (groups < 1 || shape.experts % groups != 0) {
      fmt::print(stderr, "moe_block_bench: --groups must divide the {} experts of '{}'\n", shape.experts, name);
      return 2;
    }
    selected.push_back(shape);
  }
  if (check) {
    bool ok = true;
    for (const Params params : precisions) {
      for (const Shape& shape : selected) ok = check_against_loop(shape, groups, device, false, params) && ok;
      // Two groups (older frozen) with an expert of the trainable group that no token reaches.
      Shape starved = selected.front();
      starved.tokens = std::min<int64_t>(starved.tokens, 4096);
      ok = check_against_loop(starved, 2, device, true, params) && ok;
    }
    if (!ok) return 1;
  }
  fmt::print("{:<14} {:>6} {:>6} {:>4} {:>3} {:>7} {:>6} {:>6} {:>8} {:>10} {:>10} {:>12} {:>9} {:>9}\n", "shape", "d",
             "f", "E", "k", "tokens", "params", "launch", "backend", "median ms", "min ms", "tokens/s", "TFLOP/s",
             "peak GiB");
  for (const Shape& shape : selected) {
    for (const Params params : precisions) {
      for (const bool graphed : launches) {
        for (const ExpertBackend backend : backends) {
          const std::string_view launch = graphed ? "graph" : "eager";
          const std::string trace_path = trace_dir.empty() ? ""
                                                           : fmt::format("{}/{}-{}-{}.trace.json", trace_dir,
                                                                         shape.name, params_name(params), launch);
          const Timing timing = time_block(shape, groups, backend, params, graphed, device, warmup, iters, trace_path);
          const double flops = grove::bench::moe_block_flops(shape.tokens, shape.top_k, shape.d, shape.f);
          const double tflops = flops / (timing.median_ms / 1e3) / 1e12;
          const double peak =
              timing.peak_bytes < 0 ? -1.0 : static_cast<double>(timing.peak_bytes) / (1024.0 * 1024.0 * 1024.0);
          fmt::print(
              "{:<14} {:>6} {:>6} {:>4} {:>3} {:>7} {:>6} {:>6} {:>8} {:>10.3f} {:>10.3f} {:>12.0f} {:>9.1f} "
              "{:>9.2f}\n",
              shape.name, shape.d, shape.f, shape.experts, shape.top_k, shape.tokens, params_name(params), launch,
              expert_backend_name(backend), timing.median_ms, timing.min_ms, shape.tokens / (timing.median_ms / 1e3),
              tflops, peak);
          if (tsv) {
            *tsv << fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3f}\t{:.3f}\t{:.1f}\t{:.2f}\n", shape.name,
                                shape.d, shape.f, shape.experts, shape.top_k, shape.tokens, groups, params_name(params),
                                launch, expert_backend_name(backend), timing.median_ms, timing.min_ms, tflops, peak);
          }
        }
      }
    }
  }
  return 0;
}
