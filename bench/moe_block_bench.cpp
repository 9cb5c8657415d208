// Times the MoE block (router + expert dispatch, forward + backward) with the shapes the GPU targets are judged on:
//   olmoe          d 2048, f 1024, 64 experts, top-8
//   mixtral-small  d 1024, f 3584,  8 experts, top-2
// 16,384 tokens, fp32 master weights under bf16 autocast on CUDA (timed with CUDA events: warm-up, then the median
// of --iters runs). On the CPU it runs the `small` shape (d 256, f 512, 8 experts, top-2, 2,048 tokens) in fp32.
//   moe_block_bench [--device cuda|cpu] [--shapes olmoe,mixtral-small|small] [--tokens N] [--iters N]
//                   [--warmup N] [--backend auto|grouped|loop|both] [--groups G]
// --groups splits each layer's experts into G equal groups (as growth does) with all but the newest frozen.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <sstream>
#include <vector>

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

const std::vector<Shape> kShapes{{"olmoe", 2048, 1024, 64, 8, 16384},
                                 {"mixtral-small", 1024, 3584, 8, 2, 16384},
                                 {"small", 256, 512, 8, 2, 2048}};

struct Timing {
  double median_ms = 0, min_ms = 0;
};

Timing time_block(const Shape& shape, int64_t groups, ExpertBackend backend, const torch::Device& device, int warmup,
                  int iters) {
  MoeLayer layer(shape.top_k, 0.0);
  for (int64_t g = 0; g < groups; ++g) {
    ExpertGroup group(shape.experts / groups, shape.d, shape.f, false);
    for (auto& item : group->named_parameters()) {
      fill_normal_(item.value(), item.key() == "gate_weight" ? 0.5 : 0.02, derive_seed(static_cast<uint64_t>(g), item.key()));
    }
    group->set_experts_trainable(g == groups - 1);
    group->set_gate_trainable(g == groups - 1);
    layer->add_group(group);
  }
  layer->to(device);
  const auto options = torch::TensorOptions().device(device);
  const torch::Tensor x = seeded_normal({shape.tokens, shape.d}, 1.0, 1).to(options).requires_grad_(true);
  const torch::Tensor upstream = seeded_normal({shape.tokens, shape.d}, 1.0, 2).to(options);
  MoeOptions moe_options;
  moe_options.backend = backend;
  compat::DeviceTimer timer(device);
  std::vector<double> samples;
  for (int i = 0; i < warmup + iters; ++i) {
    layer->zero_grad();
    x.mutable_grad() = torch::Tensor();
    timer.start();
    {
      compat::AutocastGuard autocast(device.type(), torch::kBFloat16, device.is_cuda());
      const torch::Tensor y = layer->forward(x, moe_options).y;
      (y.to(torch::kFloat) * upstream).sum().backward();
    }
    const double ms = timer.stop_ms();
    if (i >= warmup) samples.push_back(ms);
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples.front()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MoE block forward+backward benchmark"};
  std::string device_name = compat::cuda_available() ? "cuda" : "cpu";
  std::string shapes_arg;
  std::string backend_arg = "auto";
  int64_t tokens = 0, groups = 1;
  int warmup = 3, iters = 10;
  app.add_option("--device", device_name, "cuda or cpu (default: cuda when available)")
      ->check(CLI::IsMember({"cuda", "cpu"}));
  app.add_option("--shapes", shapes_arg, "Comma-separated: olmoe, mixtral-small, small (default: the first two on "
                                         "CUDA, small on the CPU)");
  app.add_option("--tokens", tokens, "Tokens per step (default: the shape's)");
  app.add_option("--iters", iters, "Timed iterations (median reported)");
  app.add_option("--warmup", warmup, "Untimed iterations first");
  app.add_option("--backend", backend_arg, "auto, grouped, loop or both")
      ->check(CLI::IsMember({"auto", "grouped", "loop", "both"}));
  app.add_option("--groups", groups, "Expert groups per layer (older ones frozen)");
  CLI11_PARSE(app, argc, argv);

  const torch::Device device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
  if (shapes_arg.empty()) shapes_arg = device.is_cuda() ? "olmoe,mixtral-small" : "small";
  std::vector<ExpertBackend> backends;
  if (backend_arg == "both") backends = {ExpertBackend::kGrouped, ExpertBackend::kLoop};
  else if (backend_arg == "grouped") backends = {ExpertBackend::kGrouped};
  else if (backend_arg == "loop") backends = {ExpertBackend::kLoop};
  else backends = {ExpertBackend::kAuto};

  fmt::print("LibTorch {}, device {}, {} expert group(s), warm-up {}, median of {}\n", compat::torch_version(),
             device.str(), groups, warmup, iters);
  fmt::print("{:<14} {:>6} {:>6} {:>4} {:>3} {:>7} {:>8} {:>10} {:>10} {:>12} {:>9}\n", "shape", "d", "f", "E", "k",
             "tokens", "backend", "median ms", "min ms", "tokens/s", "TFLOP/s");
  std::stringstream list(shapes_arg);
  for (std::string name; std::getline(list, name, ',');) {
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
    for (const ExpertBackend backend : backends) {
      const Timing timing = time_block(shape, groups, backend, device, warmup, iters);
      // Expert GEMMs only: 3 per assignment forward (2 M d f FLOPs each), twice that backward.
      const double flops = 18.0 * static_cast<double>(shape.tokens * shape.top_k) * shape.d * shape.f;
      fmt::print("{:<14} {:>6} {:>6} {:>4} {:>3} {:>7} {:>8} {:>10.3f} {:>10.3f} {:>12.0f} {:>9.1f}\n", shape.name,
                 shape.d, shape.f, shape.experts, shape.top_k, shape.tokens, expert_backend_name(backend),
                 timing.median_ms, timing.min_ms, shape.tokens / (timing.median_ms / 1e3),
                 flops / (timing.median_ms / 1e3) / 1e12);
    }
  }
  return 0;
}
