// CUDA checks of the model (label `gpu`; each test skips without a device): the grouped-GEMM dispatch against the
// per-expert loop in bf16, forward and backward, including multi-group layouts and frozen groups; the whole model
// on CUDA against the CPU in fp32, and with the fused kernels against their ATen formulations under bf16 autocast.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "model/cuda_graph.h"
#include "model/fused_experts.h"
#include "model/fused_rms_norm.h"
#include "model/moe_layer.h"
#include "model/moe_transformer.h"
#include "model/seeded_init.h"
#include "model/torch_compat.h"
#include "tests/model/model_test_util.h"

namespace grove::model {
namespace {
using testing::relative_error;

struct Case {
  std::vector<int64_t> groups;
  int64_t top_k;
  int64_t d, f, tokens;
};

MoeLayer cuda_layer(const Case& c, uint64_t seed) {
  MoeLayer layer(c.top_k, 0.0);
  for (const int64_t size : c.groups) {
    ExpertGroup group(size, c.d, c.f, false);
    for (auto& item : group->named_parameters()) fill_normal_(item.value(), item.key() == "gate_weight" ? 0.5 : 0.05, ++seed);
    layer->add_group(group);
  }
  layer->to(torch::kCUDA);
  for (auto& parameter : layer->parameters()) parameter.set_requires_grad(true);
  return layer;
}

struct Result {
  torch::Tensor y;
  std::vector<torch::Tensor> grads;  // x, then every parameter (undefined for frozen ones)
};

Result run(MoeLayerImpl& layer, const torch::Tensor& x_init, const torch::Tensor& weights, ExpertBackend backend) {
  layer.zero_grad();
  const torch::Tensor x = x_init.clone().requires_grad_(true);
  MoeOptions options;
  options.backend = backend;
  Result result;
  {
    compat::AutocastGuard autocast(torch::kCUDA, torch::kBFloat16);
    result.y = layer.forward(x, options).y;
    (result.y.to(torch::kFloat) * weights).sum().backward();
  }
  result.grads.push_back(x.grad().clone());
  for (const auto& parameter : layer.parameters()) {
    result.grads.push_back(parameter.grad().defined() ? parameter.grad().clone() : torch::Tensor());
  }
  return result;
}

class GroupedVersusLoop : public ::testing::TestWithParam<Case> {};

TEST_P(GroupedVersusLoop, AgreeWithinBf16ToleranceForwardAndBackward) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Case& c = GetParam();
  MoeLayer layer = cuda_layer(c, 10);
  const auto options = torch::TensorOptions().device(torch::kCUDA);
  const torch::Tensor x = seeded_normal({c.tokens, c.d}, 1.0, 1).to(options);
  const torch::Tensor weights = seeded_normal({c.tokens, c.d}, 1.0, 2).to(options);
  {
    compat::AutocastGuard autocast(torch::kCUDA, torch::kBFloat16);
    std::vector<GroupWeights> groups;
    for (size_t g = 0; g < layer->n_groups(); ++g) {
      groups.push_back({layer->group(g).w1(), layer->group(g).w3(), layer->group(g).w2(), layer->first_slot(g)});
    }
    EXPECT_EQ(resolve_expert_backend(ExpertBackend::kAuto, x, groups),
              compat::kTorchAtLeast2_8 ? ExpertBackend::kGrouped : ExpertBackend::kLoop);
  }
  const Result grouped = run(*layer, x, weights, ExpertBackend::kGrouped);
  const Result loop = run(*layer, x, weights, ExpertBackend::kLoop);
  const double forward_error = relative_error(grouped.y, loop.y);
  EXPECT_LE(forward_error, 1e-2);
  const auto names = layer->named_parameters().keys();
  for (size_t i = 0; i < grouped.grads.size(); ++i) {
    const std::string what = i == 0 ? "x" : names[i - 1];
    ASSERT_EQ(grouped.grads[i].defined(), loop.grads[i].defined()) << what;
    if (!loop.grads[i].defined()) continue;
    ASSERT_TRUE(torch::isfinite(grouped.grads[i]).all().item<bool>()) << what << ": masked rows must not leak";
    EXPECT_LE(relative_error(grouped.grads[i], loop.grads[i]), 1e-2) << what;
  }
  std::cout << "forward relative error " << forward_error << "\n";
}

INSTANTIATE_TEST_SUITE_P(Layouts, GroupedVersusLoop,
                         ::testing::Values(Case{{8}, 2, 256, 512, 4096}, Case{{4, 4}, 2, 256, 512, 4096},
                                           Case{{32, 16, 16}, 8, 128, 256, 2048}, Case{{6, 1, 1}, 3, 128, 128, 1000}),
                         [](const ::testing::TestParamInfo<Case>& param_info) {  // "g4g4_k2_d256_f512_n4096"
                           const Case& c = param_info.param;
                           std::ostringstream name;
                           for (const int64_t size : c.groups) name << 'g' << size;
                           name << "_k" << c.top_k << "_d" << c.d << "_f" << c.f << "_n" << c.tokens;
                           return name.str();
                         });

TEST(GroupedVersusLoop, FrozenGroupsHaveNoWeightGradientsOnTheGroupedPath) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  MoeLayer layer = cuda_layer({{4, 4}, 2, 128, 256, 2048}, 20);
  layer->group(0).set_experts_trainable(false);
  layer->group(0).set_gate_trainable(false);
  const auto options = torch::TensorOptions().device(torch::kCUDA);
  const Result grouped = run(*layer, seeded_normal({2048, 128}, 1.0, 3).to(options),
                             seeded_normal({2048, 128}, 1.0, 4).to(options), ExpertBackend::kGrouped);
  EXPECT_FALSE(layer->group(0).w1().grad().defined());
  EXPECT_TRUE(layer->group(1).w1().grad().defined());
}

// A layer layout for the fused-kernel tests, with its first group frozen (a growth phase) or not, in bf16 or fp32.
struct Variant {
  Case c;
  bool freeze_first_group;
  bool bf16_parameters = false;
};

bool is_expert_weight(const std::string& name) {
  return name.ends_with("w1") || name.ends_with("w3") || name.ends_with("w2");
}

// The fused CUDA kernels of the grouped path (model/fused_experts.h) against its ATen formulation: the output and
// every gradient (x, gate rows, expert weights) agree, with and without a frozen group (the growth phase), with fp32
// master parameters under autocast and with bf16 parameters (gradients then stay bf16, and a single group's w2, and
// the buffer its w1 and w3 are halves of, are used as its own stacks), and an expert that receives no token gets
// exactly zero gradients. The launch counter shows the fused path really ran, and how many stackings it took: fp32
// masters three per group (w1, w3, w2); bf16 groups two each (their w1-w3 buffer as one block, and w2), and a single
// bf16 group none.
TEST(FusedExpertKernels, MatchTheAtenFormulationForwardAndBackward) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::kTorchAtLeast2_8) GTEST_SKIP() << "no grouped path in this LibTorch";
  // A dense case, and a sparse one (16 tokens, top-2, 32 experts): most experts get no token there.
  for (const Variant& v : {Variant{{{8}, 2, 256, 512, 4096}, false}, Variant{{{24, 8}, 2, 128, 256, 16}, false},
                           Variant{{{12, 4}, 2, 256, 512, 4096}, true}, Variant{{{8}, 2, 256, 512, 4096}, false, true},
                           Variant{{{32}, 2, 128, 256, 16}, false, true}, Variant{{{12, 4}, 2, 256, 512, 4096}, true, true}}) {
    const Case& c = v.c;
    MoeLayer layer = cuda_layer(c, 30);
    const torch::ScalarType dtype = v.bf16_parameters ? torch::kBFloat16 : torch::kFloat;
    layer->to(dtype);
    if (v.freeze_first_group) {
      layer->group(0).set_experts_trainable(false);
      layer->group(0).set_gate_trainable(false);
    }
    const auto options = torch::TensorOptions().device(torch::kCUDA);
    const torch::Tensor x = seeded_normal({c.tokens, c.d}, 1.0, 5).to(options.dtype(dtype));
    const torch::Tensor weights = seeded_normal({c.tokens, c.d}, 1.0, 6).to(options);
    const std::string shape = "experts " + std::to_string(layer->n_experts()) + ", tokens " +
                              std::to_string(c.tokens) + (v.freeze_first_group ? ", first group frozen" : "") +
                              (v.bf16_parameters ? ", bf16 parameters" : "");

    const uint64_t before = fused::launches();
    const uint64_t stackings_before = fused::launches("fused::cast_into_stack");
    const Result with = run(*layer, x, weights, ExpertBackend::kGrouped);
    // SwiGLU forward and backward, the gathers and combines, and the widenings or zeroings (at least seven; the
    // router's and the plan's kernels come on top).
    EXPECT_GE(fused::launches() - before, 7u) << shape << ": the fused kernels ran";
    const uint64_t groups = layer->n_groups();
    const uint64_t stackings = v.bf16_parameters ? (groups == 1 ? 0u : 2u * groups) : 3u * groups;
    EXPECT_EQ(fused::launches("fused::cast_into_stack") - stackings_before, stackings) << shape;
    Result without;
    {
      fused::ScopedSwitch off(false);
      const uint64_t off_before = fused::launches();
      without = run(*layer, x, weights, ExpertBackend::kGrouped);
      EXPECT_EQ(fused::launches(), off_before) << shape << ": switched off, none ran";
    }

    EXPECT_LE(relative_error(with.y, without.y), 1e-2) << shape;
    const auto names = layer->named_parameters().keys();
    int empty_blocks = 0;
    for (size_t i = 0; i < with.grads.size(); ++i) {
      const std::string what = (i == 0 ? "x" : names[i - 1]) + " (" + shape + ")";
      ASSERT_EQ(with.grads[i].defined(), without.grads[i].defined()) << what;
      if (!without.grads[i].defined()) continue;  // a frozen tensor
      ASSERT_EQ(with.grads[i].scalar_type(), without.grads[i].scalar_type()) << what;
      if (i > 0) {
        EXPECT_EQ(with.grads[i].scalar_type(), dtype) << what << ": a gradient in its parameter's dtype";
      }
      EXPECT_LE(relative_error(with.grads[i], without.grads[i]), 1e-2) << what;
      if (i == 0 || !is_expert_weight(names[i - 1])) continue;
      for (int64_t e = 0; e < without.grads[i].size(0); ++e) {
        if (!without.grads[i][e].eq(0).all().item<bool>()) continue;
        ++empty_blocks;
        EXPECT_TRUE(with.grads[i][e].eq(0).all().item<bool>()) << what << ": expert " << e << " got no token";
      }
    }
    if (c.tokens == 16) {
      EXPECT_GT(empty_blocks, 0) << "the sparse case should leave experts without tokens";
    }
  }
}

// ExpertGradients::kGemmDtype on fp32 masters under autocast: the trainable expert weights' .grad is bf16, set by the
// backward without the widening pass, and holds the values that the default (autograd, widened to fp32) gives. The
// two differ only where their GEMMs add in another order: the default computes w1's and w3's gradients in one GEMM,
// kGemmDtype in one each, as for bf16 parameters, so a value may round to the neighbouring bf16. Every other
// gradient is the same bit for bit, frozen groups get none, an expert without tokens gets exact zeros, and a second
// backward before the reset adds in fp32, as AccumulateGrad does: exactly the sum of the two bf16 gradients.
TEST(FusedExpertKernels, GemmDtypeGradientsAreTheWidenedGradientsLeftInBf16) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::kTorchAtLeast2_8) GTEST_SKIP() << "no grouped path in this LibTorch";
  for (const Variant& v : {Variant{{{8}, 2, 256, 512, 4096}, false}, Variant{{{24, 8}, 2, 128, 256, 16}, false},
                           Variant{{{12, 4}, 2, 256, 512, 4096}, true}}) {
    const Case& c = v.c;
    MoeLayer layer = cuda_layer(c, 50);
    if (v.freeze_first_group) {
      layer->group(0).set_experts_trainable(false);
      layer->group(0).set_gate_trainable(false);
    }
    const auto options = torch::TensorOptions().device(torch::kCUDA);
    const torch::Tensor x = seeded_normal({c.tokens, c.d}, 1.0, 11).to(options);
    const torch::Tensor upstream1 = seeded_normal({c.tokens, c.d}, 1.0, 12).to(options);
    const torch::Tensor upstream2 = seeded_normal({c.tokens, c.d}, 1.0, 13).to(options);
    const std::string shape = "experts " + std::to_string(layer->n_experts()) + ", tokens " +
                              std::to_string(c.tokens) + (v.freeze_first_group ? ", first group frozen" : "");
    // One backward per upstream gradient, .grad reset before the first only; the gradients then (x, parameters).
    auto backward = [&](ExpertGradients gradients, const std::vector<torch::Tensor>& upstreams) {
      layer->zero_grad();
      const torch::Tensor input = x.clone().requires_grad_(true);
      for (const torch::Tensor& upstream : upstreams) {
        compat::AutocastGuard autocast(torch::kCUDA, torch::kBFloat16);
        MoeOptions moe_options;
        moe_options.backend = ExpertBackend::kGrouped;
        moe_options.output_dtype = torch::kFloat;
        moe_options.expert_gradients = gradients;
        (layer->forward(input, moe_options).y * upstream).sum().backward();
      }
      std::vector<torch::Tensor> grads{input.grad().clone()};
      for (const auto& p : layer->parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
      return grads;
    };
    const uint64_t widened_before = fused::launches("fused::widen_expert_gradients");
    const std::vector<torch::Tensor> widened = backward(ExpertGradients::kParameterDtype, {upstream1});
    const uint64_t widened_after = fused::launches("fused::widen_expert_gradients");
    EXPECT_GT(widened_after, widened_before) << shape;
    const uint64_t zeroed_before = fused::launches("fused::zero_empty_experts");
    const std::vector<torch::Tensor> kept = backward(ExpertGradients::kGemmDtype, {upstream1});
    EXPECT_EQ(fused::launches("fused::widen_expert_gradients"), widened_after) << shape << ": no widening pass";
    EXPECT_GE(fused::launches("fused::zero_empty_experts") - zeroed_before, 3u) << shape << ": w1, w3 and w2 zeroed";
    const std::vector<torch::Tensor> second = backward(ExpertGradients::kGemmDtype, {upstream2});
    const std::vector<torch::Tensor> both = backward(ExpertGradients::kGemmDtype, {upstream1, upstream2});

    const auto names = layer->named_parameters().keys();
    int expert_weights = 0, empty_blocks = 0;
    for (size_t i = 0; i < kept.size(); ++i) {
      const std::string what = (i == 0 ? "x" : names[i - 1]) + " (" + shape + ")";
      ASSERT_EQ(kept[i].defined(), widened[i].defined()) << what;
      if (!widened[i].defined()) continue;  // a frozen tensor
      if (i == 0 || !is_expert_weight(names[i - 1])) {
        EXPECT_TRUE(torch::equal(kept[i], widened[i])) << what << ": the same gradient bit for bit";
        EXPECT_TRUE(torch::equal(both[i], kept[i] + second[i])) << what << ": accumulated by autograd";
        continue;
      }
      ++expert_weights;
      ASSERT_EQ(kept[i].scalar_type(), torch::kBFloat16) << what << ": left in the GEMMs' dtype";
      ASSERT_EQ(widened[i].scalar_type(), torch::kFloat) << what;
      EXPECT_TRUE(torch::equal(widened[i].to(torch::kBFloat16).to(torch::kFloat), widened[i]))
          << what << ": the widened gradient holds bf16 values";
      const torch::Tensor kept32 = kept[i].to(torch::kFloat);
      // At most one bf16 step apart (2^-7 relative at most), and only in a few values.
      const torch::Tensor apart = (kept32 - widened[i]).abs();
      const double floor = 1e-5 * widened[i].abs().max().item<double>();  // where the sum nearly cancels
      EXPECT_TRUE(apart.le(widened[i].abs() * (1.0 / 128) + floor).all().item<bool>()) << what;
      EXPECT_LE(apart.gt(0).to(torch::kFloat).mean().item<double>(), 0.05) << what;
      EXPECT_LE(relative_error(kept32, widened[i]), 1e-3) << what;
      ASSERT_EQ(both[i].scalar_type(), torch::kFloat) << what << ": a second backward adds in fp32";
      EXPECT_TRUE(torch::equal(both[i], kept32 + second[i].to(torch::kFloat))) << what;
      for (int64_t e = 0; e < widened[i].size(0); ++e) {
        if (!widened[i][e].eq(0).all().item<bool>()) continue;
        ++empty_blocks;
        EXPECT_TRUE(kept[i][e].eq(0).all().item<bool>()) << what << ": expert " << e << " got no token";
      }
    }
    EXPECT_EQ(expert_weights, 3 * (v.freeze_first_group ? 1 : static_cast<int>(c.groups.size()))) << shape;
    if (c.tokens == 16) {
      EXPECT_GT(empty_blocks, 0) << "the sparse case should leave experts without tokens";
    }
  }
}

// The dispatch plan's counting sort (model/dispatch_plan_kernels.h) against a stable sort written here on the CPU:
// every output bit for bit, over many 1024-assignment chunks, a partial last chunk and warp, groups whose keys are
// reordered (trainable first), 1,000 experts, and an expert that no token chose.
TEST(FusedExpertKernels, DispatchPlanIsAStableSortByExpertKey) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  struct PlanCase {
    int64_t tokens, top_k;
    std::vector<fused::SlotRange> groups;
    int64_t starved;  // an expert no token chooses, or -1
  };
  const std::vector<PlanCase> cases{
      {16384, 8, {{0, 64, 0}}, -1},
      {1000, 3, {{0, 5, 4}, {5, 1, 3}, {6, 3, 0}}, -1},
      {3000, 1, {{0, 1000, 0}}, -1},
      {37, 2, {{0, 4, 4}, {4, 4, 0}}, 3},
  };
  uint64_t seed = 70;
  for (const PlanCase& c : cases) {
    int64_t experts = 0;
    for (const auto& g : c.groups) experts += g.size;
    SCOPED_TRACE("tokens " + std::to_string(c.tokens) + ", top-" + std::to_string(c.top_k) + ", experts " +
                 std::to_string(experts));
    torch::Tensor scores = seeded_normal({c.tokens, experts}, 1.0, ++seed);
    if (c.starved >= 0) scores.select(1, c.starved).fill_(-1e9);
    const torch::Tensor expert_index = std::get<1>(scores.topk(c.top_k, 1)).contiguous();
    const torch::Tensor gate = seeded_normal({c.tokens, c.top_k}, 1.0, ++seed).abs();

    // The reference: each assignment's key, then a stable sort of the assignments by it.
    const int64_t n = expert_index.numel();
    const int64_t* slot = expert_index.data_ptr<int64_t>();
    std::vector<int64_t> key(static_cast<size_t>(n)), order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      key[i] = slot[i];
      for (const auto& g : c.groups) {
        if (slot[i] >= g.first_slot && slot[i] < g.first_slot + g.size) key[i] = slot[i] - g.first_slot + g.first_key;
      }
      order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key[a] < key[b]; });
    torch::Tensor token = torch::empty({n}, torch::kLong), inv = torch::empty({n}, torch::kLong);
    torch::Tensor sorted_gate = torch::empty({n}, torch::kFloat), ends = torch::zeros({experts}, torch::kInt);
    const float* gate_values = gate.data_ptr<float>();
    for (int64_t p = 0; p < n; ++p) {
      token.data_ptr<int64_t>()[p] = order[p] / c.top_k;
      inv.data_ptr<int64_t>()[order[p]] = p;
      sorted_gate.data_ptr<float>()[p] = gate_values[order[p]];
    }
    for (int64_t i = 0; i < n; ++i) ends.data_ptr<int32_t>()[key[i]] += 1;
    ends = ends.cumsum(0).to(torch::kInt);

    const torch::Tensor cuda_index = expert_index.to(torch::kCUDA), cuda_gate = gate.to(torch::kCUDA);
    ASSERT_TRUE(fused::dispatch_plan_available(cuda_index, cuda_gate, experts, c.groups.size()));
    const fused::DispatchOrder plan = fused::dispatch_plan(cuda_index, cuda_gate, c.groups, experts);
    EXPECT_TRUE(torch::equal(plan.token.cpu(), token)) << "source tokens";
    EXPECT_TRUE(torch::equal(plan.inv.cpu(), inv)) << "inverse order";
    EXPECT_TRUE(torch::equal(plan.gate.cpu(), sorted_gate)) << "sorted gate";
    EXPECT_TRUE(torch::equal(plan.ends.cpu(), ends)) << "row ends";
    if (c.starved >= 0) {
      const int64_t starved_key = c.starved - c.groups[0].first_slot + c.groups[0].first_key;
      const int64_t before = starved_key == 0 ? 0 : ends[starved_key - 1].item<int64_t>();
      EXPECT_EQ(ends[starved_key].item<int64_t>(), before) << "the starved expert's block is empty";
    }
  }
}

// A MoE block's forward + backward captured once and replayed on new input values (written into the same tensors)
// gives the output and gradients that running it eagerly on those values gives: the graph reads its inputs at
// replay and rewrites the gradients in place. With bf16 parameters, and with fp32 masters under autocast
// whose gradients come through autograd or are set as .grad in bf16 by the backward itself.
TEST(CapturedWork, ReplayedMoeBlockMatchesEagerOnNewInputs) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::kTorchAtLeast2_8) GTEST_SKIP() << "no grouped path in this LibTorch";
  const torch::Device cuda(torch::kCUDA);
  ASSERT_TRUE(CapturedWork::available(cuda));
  for (const auto& [dtype, gradients] : {std::pair{torch::kBFloat16, ExpertGradients::kParameterDtype},
                                          std::pair{torch::kFloat, ExpertGradients::kParameterDtype},
                                          std::pair{torch::kFloat, ExpertGradients::kGemmDtype}}) {
    const Case c{{8}, 2, 256, 512, 4096};
    MoeLayer layer = cuda_layer(c, 40);
    layer->to(dtype);
    const auto options = torch::TensorOptions().device(cuda);
    const torch::Tensor x = seeded_normal({c.tokens, c.d}, 1.0, 7).to(options.dtype(dtype)).requires_grad_(true);
    const torch::Tensor upstream = seeded_normal({c.tokens, c.d}, 1.0, 8).to(options);
    torch::Tensor y;
    auto work = [&] {
      layer->zero_grad();
      x.mutable_grad() = torch::Tensor();
      compat::AutocastGuard autocast(torch::kCUDA, torch::kBFloat16, dtype == torch::kFloat);
      MoeOptions moe_options;
      moe_options.backend = ExpertBackend::kGrouped;
      moe_options.expert_gradients = gradients;
      y = layer->forward(x, moe_options).y;
      (y.to(torch::kFloat) * upstream).sum().backward();
    };
    CapturedWork graph(work, cuda);
    {
      torch::NoGradGuard no_grad;
      x.copy_(seeded_normal({c.tokens, c.d}, 1.0, 9).to(options.dtype(dtype)));
      upstream.copy_(seeded_normal({c.tokens, c.d}, 1.0, 10).to(options));
    }
    graph.replay();
    if (gradients == ExpertGradients::kGemmDtype) {
      EXPECT_EQ(layer->group(0).w1().grad().scalar_type(), torch::kBFloat16) << "set in bf16 under capture";
    }
    std::vector<torch::Tensor> replayed{y.clone(), x.grad().clone()};
    for (const auto& p : layer->parameters()) replayed.push_back(p.grad().clone());

    work();
    std::vector<torch::Tensor> eager{y, x.grad()};
    for (const auto& p : layer->parameters()) eager.push_back(p.grad());
    ASSERT_EQ(replayed.size(), eager.size());
    for (size_t i = 0; i < eager.size(); ++i) {
      EXPECT_LE(relative_error(replayed[i], eager[i]), 1e-3) << "tensor " << i << " (0: y, 1: dx, then parameters), "
                                                              << torch::toString(dtype)
                                                              << (gradients == ExpertGradients::kGemmDtype ? ", bf16 .grad" : "");
    }
  }
}

TEST(MoeTransformerCuda, Fp32OnCudaMatchesTheCpu) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  MoeTransformer cpu(testing::tiny_config());
  const auto gpu = cpu.clone_model(torch::Device(torch::kCUDA));
  const torch::Tensor tokens = testing::random_tokens(2, 16, 96, 1);
  const torch::Tensor expected = cpu.forward(tokens).logits;
  EXPECT_LT(relative_error(gpu->forward(tokens.to(torch::kCUDA)).logits, expected), 1e-4);
}

TEST(MoeTransformerCuda, Bf16AutocastTrainingStepRunsOnTheGroupedPath) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  ModelConfig config = testing::tiny_config();
  config.d_model = 64;
  config.head_dim = 16;
  config.d_expert = 128;
  MoeTransformer cpu(config);
  const auto gpu = cpu.clone_model(torch::Device(torch::kCUDA));
  const torch::Tensor tokens = testing::random_tokens(4, 16, 96, 2).to(torch::kCUDA);
  compat::AutocastGuard autocast(torch::kCUDA, torch::kBFloat16);
  ForwardOptions grouped, loop;
  grouped.backend = ExpertBackend::kGrouped;
  loop.backend = ExpertBackend::kLoop;
  const ForwardOutput a = gpu->forward(tokens, grouped);
  const ForwardOutput b = gpu->forward(tokens, loop);
  EXPECT_LE(relative_error(a.logits, b.logits), 1e-2);
  (a.logits.to(torch::kFloat).logsumexp(-1).mean() + a.aux_loss).backward();
  EXPECT_TRUE(gpu->layer(0).moe().group(0).w2().grad().defined());
  EXPECT_TRUE(torch::isfinite(gpu->layer(0).moe().group(0).w2().grad()).all().item<bool>());
}

// MoeOptions::output_dtype as a decoder layer uses it under autocast: bf16 rows in, fp32 out. Each token's k expert
// outputs are summed in fp32 and kept (not all bf16 values; on the grouped path the bf16 output is that very sum
// rounded once), and x's gradient comes back in bf16, on both expert paths.
TEST(MoeLayerCuda, Bf16InputWithFp32OutputKeepsTheFp32Sum) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::kTorchAtLeast2_8) GTEST_SKIP() << "no grouped path in this LibTorch";
  const Case c{{8}, 2, 64, 128, 300};
  MoeLayer layer = cuda_layer(c, 70);
  const torch::Tensor x_init = seeded_normal({c.tokens, c.d}, 1.0, 71).to(torch::kCUDA).to(torch::kBFloat16);
  const torch::Tensor upstream = seeded_normal({c.tokens, c.d}, 1.0, 72).to(torch::kCUDA);
  for (const ExpertBackend backend : {ExpertBackend::kGrouped, ExpertBackend::kLoop}) {
    testing::expect_fp32_output_keeps_the_fp32_sum(*layer, x_init, upstream, backend);
  }
}

// A model wide enough (128) for the fused residual-add RMSNorm, whose decoder layers hand the residual stream and
// the block output on separately (decoder_layer.h).
ModelConfig norm_width_config() {
  ModelConfig config = testing::tiny_config();
  config.d_model = 128;
  config.head_dim = 32;
  config.d_expert = 256;
  return config;
}

// Fused norm launches of one forward and backward: two norms per layer and the last one, each way.
uint64_t norm_launches(const MoeTransformer& model) {
  return 2 * static_cast<uint64_t>(2 * model.config().n_layers + 1);
}

// Logits and every parameter's gradient of one forward and backward.
std::pair<torch::Tensor, std::vector<torch::Tensor>> logits_and_grads(MoeTransformer& model,
                                                                      const torch::Tensor& tokens) {
  model.zero_grad();
  const ForwardOutput out = model.forward(tokens);
  (out.logits.to(torch::kFloat).logsumexp(-1).mean() + out.aux_loss).backward();
  std::vector<torch::Tensor> grads;
  for (const auto& parameter : model.parameters()) grads.push_back(parameter.grad().to(torch::kCPU));
  return {out.logits.to(torch::kCPU, torch::kFloat), grads};
}

TEST(MoeTransformerCuda, Fp32WithFusedNormsMatchesTheCpuForwardAndBackward) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  MoeTransformer cpu(norm_width_config());
  const auto gpu = cpu.clone_model(torch::Device(torch::kCUDA));
  const torch::Tensor tokens = testing::random_tokens(2, 16, 96, 3);
  const uint64_t launches_before = fused::launches("fused::add_rms_norm");
  const auto [gpu_logits, gpu_grads] = logits_and_grads(*gpu, tokens.to(torch::kCUDA));
  EXPECT_EQ(fused::launches("fused::add_rms_norm") - launches_before, norm_launches(*gpu))
      << "every norm fused, forward and backward";
  const auto [cpu_logits, cpu_grads] = logits_and_grads(cpu, tokens);
  EXPECT_LT(relative_error(gpu_logits, cpu_logits), 1e-4);
  ASSERT_EQ(gpu_grads.size(), cpu_grads.size());
  const auto names = cpu.named_parameters();
  for (size_t i = 0; i < cpu_grads.size(); ++i) {
    EXPECT_LT(relative_error(gpu_grads[i], cpu_grads[i]), 1e-4) << names[i].key();
  }
}

// The whole model under bf16 autocast with every fused kernel against the same model with none (one forward and
// backward each: logits and every gradient), for batches of 4 x 16 and 2 x 9 tokens and for one-token sequences
// (3 x 1 and 1 x 1): a single query position in attention, the QKV heads' one-token rows, the router and the
// expert dispatch on one to three tokens, norms over one to three rows. With one token per sequence a query attends
// to its own key alone, so the attention weights are 1 whatever q and k are, and the q and k projections' true
// gradients are zero: both paths must give next to nothing there (what attention's backward leaves of dP - rowsum,
// which the two paths round differently, so they are not compared with each other).
TEST(MoeTransformerCuda, Bf16AutocastStepWithFusedKernelsMatchesTheAtenFormulation) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  MoeTransformer model(norm_width_config());
  model.to(torch::kCUDA);
  const std::vector<std::pair<int64_t, int64_t>> shapes{{4, 16}, {2, 9}, {3, 1}, {1, 1}};
  for (const auto& [batch, length] : shapes) {
    const std::string shape = std::to_string(batch) + " x " + std::to_string(length) + " tokens";
    const torch::Tensor tokens = testing::random_tokens(batch, length, 96, 4).to(torch::kCUDA);
    compat::AutocastGuard autocast(torch::kCUDA, torch::kBFloat16);
    const uint64_t launches_before = fused::launches("fused::add_rms_norm");
    const uint64_t qkv_before = fused::launches("fused::qkv_heads");
    const auto [fused_logits, fused_grads] = logits_and_grads(model, tokens);
    EXPECT_EQ(fused::launches("fused::add_rms_norm") - launches_before, norm_launches(model)) << shape;
    EXPECT_EQ(fused::launches("fused::qkv_heads") - qkv_before, 2 * static_cast<uint64_t>(model.config().n_layers))
        << shape << ": the QKV heads fused in every layer, forward and backward";
    std::pair<torch::Tensor, std::vector<torch::Tensor>> aten;
    {
      fused::ScopedSwitch off(false);
      aten = logits_and_grads(model, tokens);
    }
    EXPECT_EQ(fused::launches("fused::add_rms_norm") - launches_before, norm_launches(model))
        << shape << ": none switched off";
    EXPECT_LT(relative_error(fused_logits, aten.first), 1e-2) << shape;
    const auto names = model.named_parameters();
    ASSERT_EQ(fused_grads.size(), aten.second.size()) << shape;
    for (size_t i = 0; i < fused_grads.size(); ++i) {
      const std::string& name = names[i].key();
      const bool zero_in_truth = length == 1 && (name.ends_with("attn.q_proj") || name.ends_with("attn.k_proj"));
      if (!zero_in_truth) {
        EXPECT_LT(relative_error(fused_grads[i], aten.second[i]), 3e-2) << shape << ": " << name;
        continue;
      }
      const std::string v_name = name.substr(0, name.size() - std::string("q_proj").size()) + "v_proj";
      const double scale = names[v_name].grad().norm().item<double>();
      ASSERT_GT(scale, 0.0) << shape << ": " << v_name;
      const double fused_ratio = fused_grads[i].norm().item<double>() / scale;
      const double aten_ratio = aten.second[i].norm().item<double>() / scale;
      std::printf("%s, %s: |grad| / |%s grad| = %.3g fused, %.3g ATen\n", shape.c_str(), name.c_str(),
                  v_name.c_str(), fused_ratio, aten_ratio);
      EXPECT_LT(fused_ratio, 1e-6) << shape << ": " << name << " (zero in exact arithmetic)";
      EXPECT_LT(aten_ratio, 1e-6) << shape << ": " << name << " (zero in exact arithmetic)";
    }
  }
}

}  // namespace
}  // namespace grove::model
