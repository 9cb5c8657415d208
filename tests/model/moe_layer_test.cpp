// The MoE layer against a plain per-token reference (loop over tokens, pick the top-k logits, softmax over them,
// weighted sum of SwiGLU experts), forward and gradients, for several (experts, k, group layout) cases and both
// dispatch paths; and the router's losses and counts against hand computations.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <sstream>
#include <string>

#include "model/expert_group.h"
#include "model/moe_layer.h"
#include "model/router.h"
#include "model/seeded_init.h"
#include "tests/model/model_test_util.h"

namespace grove::model {
namespace {
using testing::relative_error;

struct Layout {
  std::vector<int64_t> groups;
  int64_t top_k;
  bool router_bias;
};

MoeLayer make_layer(const Layout& layout, int64_t d, int64_t f, uint64_t seed) {
  MoeLayer layer(layout.top_k, 0.0);
  uint64_t salt = seed;
  for (const int64_t size : layout.groups) {
    ExpertGroup group(size, d, f, layout.router_bias);
    for (auto& item : group->named_parameters()) fill_normal_(item.value(), item.key() == "gate_weight" ? 1.0 : 0.3, ++salt);
    layer->add_group(group);
  }
  for (auto& parameter : layer->parameters()) parameter.set_requires_grad(true);
  return layer;
}

// The per-token definition of the layer, built from plain tensor ops so autograd gives reference gradients.
torch::Tensor reference(const torch::Tensor& x, MoeLayerImpl& layer, int64_t top_k) {
  std::vector<torch::Tensor> rows;
  for (int64_t n = 0; n < x.size(0); ++n) {
    const torch::Tensor token = x[n];
    std::vector<torch::Tensor> logits;
    std::vector<std::pair<size_t, int64_t>> where;
    for (size_t g = 0; g < layer.n_groups(); ++g) {
      const ExpertGroupImpl& group = layer.group(g);
      for (int64_t j = 0; j < group.n_experts(); ++j) {
        torch::Tensor logit = torch::dot(group.gate_weight()[j], token);
        if (group.has_gate_bias()) logit = logit + group.gate_bias()[j];
        logits.push_back(logit);
        where.emplace_back(g, j);
      }
    }
    std::vector<size_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return logits[a].item<double>() > logits[b].item<double>(); });
    std::vector<torch::Tensor> chosen;
    for (int64_t i = 0; i < top_k; ++i) chosen.push_back(logits[order[static_cast<size_t>(i)]]);
    const torch::Tensor gates = torch::softmax(torch::stack(chosen), 0);
    torch::Tensor out = torch::zeros_like(token);
    for (int64_t i = 0; i < top_k; ++i) {
      const auto [g, j] = where[order[static_cast<size_t>(i)]];
      const ExpertGroupImpl& group = layer.group(g);
      const torch::Tensor hidden = torch::silu(torch::mv(group.w1()[j], token)) * torch::mv(group.w3()[j], token);
      out = out + gates[i] * torch::mv(group.w2()[j], hidden);
    }
    rows.push_back(out);
  }
  return torch::stack(rows);
}

std::vector<torch::Tensor> gradients(const torch::Tensor& out, const torch::Tensor& weights, const torch::Tensor& x,
                                     MoeLayerImpl& layer) {
  std::vector<torch::Tensor> inputs{x};
  for (const auto& parameter : layer.parameters()) inputs.push_back(parameter);
  auto grads = torch::autograd::grad({(out * weights).sum()}, inputs, {}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) grads[i] = torch::zeros_like(inputs[i]);  // a group no token reached
  }
  return grads;
}

class MoeReference : public ::testing::TestWithParam<std::tuple<Layout, ExpertBackend>> {};

TEST_P(MoeReference, OutputAndGradientsEqualThePerTokenReference) {
  const auto& [layout, backend] = GetParam();
  const int64_t d = 16, f = 24, n = 37;
  MoeLayer layer = make_layer(layout, d, f, 100);
  const torch::Tensor x = seeded_normal({n, d}, 1.0, 5).requires_grad_(true);
  const torch::Tensor weights = seeded_normal({n, d}, 1.0, 6);

  MoeOptions options;
  options.backend = backend;
  const MoeOutput output = layer->forward(x, options);
  const torch::Tensor expected = reference(x, *layer, layout.top_k);
  EXPECT_LT(relative_error(output.y, expected), 1e-5);

  const auto got = gradients(output.y, weights, x, *layer);
  const auto want = gradients(expected, weights, x, *layer);
  ASSERT_EQ(got.size(), want.size());
  const auto names = layer->named_parameters().keys();
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string what = i == 0 ? "x" : names[i - 1];
    if (want[i].abs().sum().item<double>() == 0.0) {
      EXPECT_EQ(got[i].abs().sum().item<double>(), 0.0) << what;  // e.g. an expert no token chose
    } else {
      EXPECT_LT(relative_error(got[i], want[i]), 1e-5) << what;
    }
  }
  // Every (token, k) assignment is counted once, at its expert's slot.
  EXPECT_EQ(output.counts.sum().item<int64_t>(), n * layout.top_k);
  EXPECT_EQ(output.counts.size(0), layer->n_experts());
}

std::string layout_name(const ::testing::TestParamInfo<std::tuple<Layout, ExpertBackend>>& param_info) {
  const Layout& layout = std::get<0>(param_info.param);
  std::ostringstream name;
  for (const int64_t size : layout.groups) name << 'g' << size;
  name << "_k" << layout.top_k << (layout.router_bias ? "_bias_" : "_") << expert_backend_name(std::get<1>(param_info.param));
  return name.str();
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, MoeReference,
    ::testing::Combine(::testing::Values(Layout{{4}, 1, false}, Layout{{2, 2}, 2, false}, Layout{{3, 1, 2}, 2, true},
                                         Layout{{4, 4}, 3, false}, Layout{{1, 1, 1, 1, 1}, 5, true}),
                       ::testing::Values(ExpertBackend::kLoop, ExpertBackend::kGrouped)),
    layout_name);

TEST(MoeLayer, FrozenGroupsGetNoWeightGradients) {
  for (const ExpertBackend backend : {ExpertBackend::kLoop, ExpertBackend::kGrouped}) {
    MoeLayer layer = make_layer({{3, 3}, 2, false}, 16, 24, 200);
    layer->group(0).set_experts_trainable(false);
    layer->group(0).set_gate_trainable(false);
    const torch::Tensor x = seeded_normal({29, 16}, 1.0, 9).requires_grad_(true);
    MoeOptions options;
    options.backend = backend;
    const MoeOutput output = layer->forward(x, options);
    ASSERT_GT(output.counts.slice(0, 0, 3).sum().item<int64_t>(), 0) << "the frozen group must receive tokens";
    output.y.pow(2).sum().backward();
    const ExpertGroupImpl& frozen = layer->group(0);
    for (const torch::Tensor& tensor : {frozen.w1(), frozen.w3(), frozen.w2(), frozen.gate_weight()}) {
      EXPECT_FALSE(tensor.grad().defined()) << expert_backend_name(backend);
    }
    EXPECT_TRUE(layer->group(1).w1().grad().defined());
    EXPECT_TRUE(layer->group(1).gate_weight().grad().defined());
    EXPECT_TRUE(x.grad().defined()) << "gradients still flow through frozen experts to the input";
  }
}

// MoeOptions::output_dtype: y comes back in the asked dtype, with the values of y in x's dtype widened (the sum over
// a token's k outputs is in fp32 either way), while x's gradient stays in x's dtype. A decoder layer relies on this
// for bf16 normed input and an fp32 residual stream; here fp32 input and fp64 output, so the CPU can check it.
TEST(MoeLayer, OutputDtypeIsTheAskedOneAndTheInputGradientKeepsTheInputs) {
  for (const ExpertBackend backend : {ExpertBackend::kLoop, ExpertBackend::kGrouped}) {
    MoeLayer layer = make_layer({{3, 2}, 2, false}, 16, 24, 300);
    const torch::Tensor x_init = seeded_normal({23, 16}, 1.0, 11);
    const torch::Tensor weights = seeded_normal({23, 16}, 1.0, 12);
    MoeOptions options;
    options.backend = backend;
    const torch::Tensor x_same = x_init.clone().requires_grad_(true);
    const torch::Tensor y_same = layer->forward(x_same, options).y;
    (y_same * weights).sum().backward();
    options.output_dtype = torch::kDouble;
    const torch::Tensor x_wide = x_init.clone().requires_grad_(true);
    const torch::Tensor y_wide = layer->forward(x_wide, options).y;
    (y_wide * weights.to(torch::kDouble)).sum().backward();
    const std::string what{expert_backend_name(backend)};
    EXPECT_EQ(y_same.scalar_type(), torch::kFloat) << what;
    EXPECT_EQ(y_wide.scalar_type(), torch::kDouble) << what;
    EXPECT_LT(relative_error(y_wide.to(torch::kFloat), y_same), 1e-6) << what;
    ASSERT_TRUE(x_wide.grad().defined()) << what;
    EXPECT_EQ(x_wide.grad().scalar_type(), torch::kFloat) << what;
    EXPECT_LT(relative_error(x_wide.grad(), x_same.grad()), 1e-6) << what;
  }
}

// The same as a decoder layer runs it: bf16 normed rows in under bf16 autocast (here the CPU's), fp32 out. Both paths
// keep each token's fp32 sum of its k outputs (the loop widens x under autocast for that) and give x's gradient in
// bf16; the test above cannot tell an fp32 sum from one rounded to x's dtype, this one can. The CUDA kernels' version
// is MoeLayerCuda.Bf16InputWithFp32OutputKeepsTheFp32Sum.
TEST(MoeLayer, Bf16InputUnderAutocastWithFp32OutputKeepsTheFp32Sum) {
  MoeLayer layer = make_layer({{3, 2}, 2, false}, 16, 24, 310);
  const torch::Tensor x_init = seeded_normal({23, 16}, 1.0, 13).to(torch::kBFloat16);
  const torch::Tensor upstream = seeded_normal({23, 16}, 1.0, 14);
  for (const ExpertBackend backend : {ExpertBackend::kGrouped, ExpertBackend::kLoop}) {
    testing::expect_fp32_output_keeps_the_fp32_sum(*layer, x_init, upstream, backend);
  }
}

// The loop path with bf16 parameters, bf16 rows and k = 3 (no autocast): its bf16 output is each token's fp32 sum of
// its k outputs rounded once, the same values as its fp32 output rounded; summing into a bf16 output would round
// after every addition and differ.
TEST(MoeLayer, LoopPathSumsEachTokensOutputsInFp32BeforeRoundingToBf16) {
  MoeLayer layer = make_layer({{5}, 3, false}, 16, 24, 320);
  layer->to(torch::kBFloat16);
  const torch::Tensor x = seeded_normal({64, 16}, 1.0, 15).to(torch::kBFloat16);
  MoeOptions options;
  options.backend = ExpertBackend::kLoop;
  torch::NoGradGuard no_grad;
  const torch::Tensor y_bf16 = layer->forward(x, options).y;
  options.output_dtype = torch::kFloat;
  const torch::Tensor y_fp32 = layer->forward(x, options).y;
  ASSERT_EQ(y_bf16.scalar_type(), torch::kBFloat16);
  ASSERT_EQ(y_fp32.scalar_type(), torch::kFloat);
  EXPECT_FALSE(torch::equal(y_fp32, y_fp32.to(torch::kBFloat16).to(torch::kFloat))) << "an fp32 sum";
  EXPECT_TRUE(torch::equal(y_fp32.to(torch::kBFloat16), y_bf16)) << "the same sum, rounded once";
}

// Where a group keeps w1 and w3 (model/expert_group.h): in bf16 the two halves of one buffer, w1 rows then w3 rows
// of each expert, whether built in bf16 or cast to it, and again after a move; in fp32 two dense tensors. Values,
// and the parameters' identity (what an optimizer or a module holds), survive every placement.
TEST(ExpertGroup, Bf16KeepsW1AndW3AsHalvesOfOneBufferThroughCasts) {
  ExpertGroup group(3, 16, 24, false);
  for (auto& item : group->named_parameters()) fill_normal_(item.value(), 0.3, item.key() == "w1" ? 1 : 2);
  torch::Tensor w1_values = group->w1().clone(), w3_values = group->w3().clone();
  const void* w1_impl = group->w1().unsafeGetTensorImpl();
  const void* w3_impl = group->w3().unsafeGetTensorImpl();
  auto expect_placement = [&](bool together, const std::string& when) {
    ASSERT_EQ(w13_buffer(group->w1(), group->w3()).defined(), together) << when;
    EXPECT_EQ(group->w1().unsafeGetTensorImpl(), w1_impl) << when;
    EXPECT_EQ(group->named_parameters()["w3"].unsafeGetTensorImpl(), w3_impl) << when;
    EXPECT_TRUE(torch::equal(group->w1(), w1_values.to(group->w1().scalar_type()))) << when;
    EXPECT_TRUE(torch::equal(group->w3(), w3_values.to(group->w3().scalar_type()))) << when;
    if (!together) {
      EXPECT_TRUE(group->w1().is_contiguous() && group->w3().is_contiguous()) << when;
      return;
    }
    const torch::Tensor both = w13_buffer(group->w1(), group->w3());
    EXPECT_EQ(both.sizes(), torch::IntArrayRef({3, 48, 16})) << when;
    EXPECT_TRUE(both.is_contiguous()) << when;
    EXPECT_TRUE(torch::equal(both, torch::cat({group->w1(), group->w3()}, 1))) << when;
    EXPECT_EQ(both.data_ptr(), group->w1().data_ptr()) << when << ": a view of the parameters, not a copy";
  };
  expect_placement(false, "built in fp32");
  group->to(torch::kBFloat16);
  expect_placement(true, "cast to bf16");
  group->to(torch::kCPU, torch::kBFloat16);
  expect_placement(true, "moved without a change");
  w1_values = w1_values.to(torch::kBFloat16);  // what the fp32 cast back holds
  w3_values = w3_values.to(torch::kBFloat16);
  group->to(torch::kFloat);
  expect_placement(false, "cast back to fp32");
  ExpertGroup built(2, 8, 16, false, torch::TensorOptions().dtype(torch::kBFloat16));
  EXPECT_TRUE(w13_buffer(built->w1(), built->w3()).defined()) << "built in bf16";
  EXPECT_FALSE(w13_buffer(group->w3(), group->w1()).defined()) << "w3 before w1 is not the stack's order";
}

// The grouped path with bf16 parameters multiplies by each group's w1-w3 buffer where the group has one (no stacked
// copy for a single group): its output and every gradient are those of the same weights as separate tensors, which
// are stacked by copying, bit for bit. One group and two (the second also reads the buffer, as one block).
TEST(MoeLayer, Bf16GroupedPathReadsTheW1W3BufferAsItsOperand) {
  for (const Layout& layout : {Layout{{4}, 2, false}, Layout{{3, 2}, 2, true}}) {
    MoeLayer together = make_layer(layout, 16, 24, 330);
    together->to(torch::kBFloat16);
    MoeLayer apart = make_layer(layout, 16, 24, 1);
    apart->to(torch::kBFloat16);
    {
      torch::NoGradGuard no_grad;
      const auto source = together->named_parameters();
      for (auto& item : apart->named_parameters()) item.value().copy_(source[item.key()]);
      for (size_t g = 0; g < apart->n_groups(); ++g) {
        for (const torch::Tensor& w : {apart->group(g).w1(), apart->group(g).w3()}) {
          w.set_data(w.contiguous());
        }
      }
    }
    const std::string what = std::to_string(layout.groups.size()) + " group(s)";
    ASSERT_TRUE(w13_buffer(together->group(0).w1(), together->group(0).w3()).defined()) << what;
    ASSERT_FALSE(w13_buffer(apart->group(0).w1(), apart->group(0).w3()).defined()) << what;
    const torch::Tensor x_init = seeded_normal({31, 16}, 1.0, 16).to(torch::kBFloat16);
    const torch::Tensor upstream = seeded_normal({31, 16}, 1.0, 17).to(torch::kBFloat16);
    std::vector<std::vector<torch::Tensor>> results;
    for (MoeLayerImpl* layer : {together.get(), apart.get()}) {
      const torch::Tensor x = x_init.clone().requires_grad_(true);
      MoeOptions options;
      options.backend = ExpertBackend::kGrouped;
      const torch::Tensor y = layer->forward(x, options).y;
      results.push_back(gradients(y, upstream, x, *layer));
      results.back().push_back(y.detach());
    }
    ASSERT_EQ(results[0].size(), results[1].size());
    for (size_t i = 0; i < results[0].size(); ++i) {
      EXPECT_TRUE(torch::equal(results[0][i], results[1][i])) << what << ": output or gradient " << i;
    }
  }
}

// The grouped path's weight-stack cache (model/expert_stack_cache.h), on a layer with a frozen group run again and
// again: after each kind of change its output and gradients are those of a fresh layer with the same weights (no
// cache): a frozen weight changed in place, trainable weights changed, and stacks still held by an earlier forward
// whose backward runs later. A frozen weight written behind its version counter stays stale in training forwards,
// as documented: that is what shows the cache is used. Forwards without gradients never use it.
struct CacheProbe {
  torch::Tensor y, dx, dw1;  // output, input gradient, the trainable group's w1 gradient
};

MoeOptions grouped_options() {
  MoeOptions options;
  options.backend = ExpertBackend::kGrouped;
  return options;
}

void freeze_first_group(MoeLayerImpl& layer) { layer.group(0).set_experts_trainable(false); }

MoeLayer copy_of(MoeLayerImpl& layer, const Layout& layout) {
  MoeLayer copy = make_layer(layout, 16, 24, 1);
  torch::NoGradGuard no_grad;
  const auto source = layer.named_parameters();
  for (auto& item : copy->named_parameters()) item.value().copy_(source[item.key()]);
  freeze_first_group(*copy);
  return copy;
}

CacheProbe forward_only(MoeLayerImpl& layer, const torch::Tensor& x_init, torch::Tensor& x) {
  layer.zero_grad();
  x = x_init.clone().requires_grad_(true);
  return {layer.forward(x, grouped_options()).y, {}, {}};
}

void backward_into(MoeLayerImpl& layer, CacheProbe& probe, const torch::Tensor& x) {
  probe.y.pow(2).sum().backward();
  probe.dx = x.grad().clone();
  probe.dw1 = layer.group(1).w1().grad().clone();
  probe.y = probe.y.detach();
}

CacheProbe train_pass(MoeLayerImpl& layer, const torch::Tensor& x_init) {
  torch::Tensor x;
  CacheProbe probe = forward_only(layer, x_init, x);
  backward_into(layer, probe, x);
  return probe;
}

void expect_same(const CacheProbe& a, const CacheProbe& b, const std::string& when) {
  EXPECT_TRUE(torch::allclose(a.y, b.y, 1e-5, 1e-6)) << when;
  EXPECT_TRUE(torch::allclose(a.dx, b.dx, 1e-5, 1e-6)) << when;
  EXPECT_TRUE(torch::allclose(a.dw1, b.dw1, 1e-5, 1e-6)) << when;
}

TEST(MoeLayer, WeightStackCacheFollowsEveryChangeOfTheWeights) {
  const Layout layout{{4, 3}, 2, false};
  MoeLayer layer = make_layer(layout, 16, 24, 300);
  freeze_first_group(*layer);
  const torch::Tensor x = seeded_normal({29, 16}, 1.0, 12);

  expect_same(train_pass(*layer, x), train_pass(*copy_of(*layer, layout), x), "first pass");
  expect_same(train_pass(*layer, x), train_pass(*copy_of(*layer, layout), x), "second pass, stacks reused");
  {
    torch::NoGradGuard no_grad;
    layer->group(0).w1().mul_(1.5);  // frozen, changed in place: its version moves
    layer->group(1).w3().add_(0.1);  // trainable
  }
  expect_same(train_pass(*layer, x), train_pass(*copy_of(*layer, layout), x), "after in-place changes");

  // A forward whose graph (and stacks) are still alive, a change of the trainable weights, another forward, and only
  // then the first backward: it must see the weights of its own forward.
  const CacheProbe before = train_pass(*copy_of(*layer, layout), x);
  torch::Tensor held_x;
  CacheProbe held = forward_only(*layer, x, held_x);
  {
    torch::NoGradGuard no_grad;
    layer->group(1).w1().mul_(0.5);
  }
  torch::Tensor next_x;
  CacheProbe next = forward_only(*layer, x, next_x);
  EXPECT_TRUE(torch::allclose(next.y, copy_of(*layer, layout)->forward(x, grouped_options()).y, 1e-5, 1e-6))
      << "a forward while the stacks are held elsewhere";
  layer->zero_grad();
  backward_into(*layer, held, held_x);
  expect_same(held, before, "the held forward's backward, run after the weights changed");

  // Behind the version counter's back: training forwards keep the stacked values, evaluation forwards do not.
  const CacheProbe stale = train_pass(*layer, x);
  {
    torch::NoGradGuard no_grad;
    float* data = layer->group(0).w2().data_ptr<float>();
    for (int64_t i = 0; i < layer->group(0).w2().numel(); ++i) data[i] *= 3.0f;
  }
  const CacheProbe cached = train_pass(*layer, x);
  EXPECT_TRUE(torch::allclose(cached.y, stale.y, 1e-6, 1e-7)) << "the cached stacks were used";
  torch::Tensor evaluated;
  {
    torch::NoGradGuard no_grad;
    evaluated = layer->forward(x, grouped_options()).y;
    EXPECT_FALSE(torch::allclose(evaluated, stale.y, 1e-3, 1e-4)) << "evaluation restacks";
    EXPECT_TRUE(torch::allclose(evaluated, copy_of(*layer, layout)->forward(x, grouped_options()).y, 1e-5, 1e-6));
    // A forward in evaluation mode empties the cache: back in training, the next forward stacks everything again.
    layer->eval();
    layer->forward(x, grouped_options());
    layer->train();
  }
  const CacheProbe restacked = train_pass(*layer, x);
  EXPECT_TRUE(torch::allclose(restacked.y, evaluated, 1e-5, 1e-6)) << "stacked afresh after eval()";
}

// The cache when the trained group changes (a phase without growth trains an older group): a group stacked while
// frozen and then trained is never served from its stale stack, and a group that stops training is stacked from its
// current weights. Each pass is compared with a fresh layer of the same weights and trainability (no cache).
TEST(MoeLayer, WeightStackCacheFollowsAChangeOfTheTrainedGroup) {
  const Layout layout{{4, 3, 2}, 2, false};
  MoeLayer layer = make_layer(layout, 16, 24, 301);
  const torch::Tensor x = seeded_normal({29, 16}, 1.0, 13);
  auto train_only = [](MoeLayerImpl& target, size_t trained) {
    for (size_t g = 0; g < target.n_groups(); ++g) target.group(g).set_experts_trainable(g == trained);
  };
  auto pass = [&](MoeLayerImpl& target, size_t trained) {
    target.zero_grad();
    const torch::Tensor input = x.clone().requires_grad_(true);
    CacheProbe probe{target.forward(input, grouped_options()).y, {}, {}};
    probe.y.pow(2).sum().backward();
    probe.dx = input.grad().clone();
    probe.dw1 = target.group(trained).w1().grad().clone();
    probe.y = probe.y.detach();
    return probe;
  };
  auto fresh_pass = [&](size_t trained) {
    MoeLayer copy = make_layer(layout, 16, 24, 1);
    {
      torch::NoGradGuard no_grad;
      const auto source = layer->named_parameters();
      for (auto& item : copy->named_parameters()) item.value().copy_(source[item.key()]);
    }
    train_only(*copy, trained);
    return pass(*copy, trained);
  };
  auto step = [&](size_t group, double scale) {  // an optimizer-like in-place update of one group
    torch::NoGradGuard no_grad;
    layer->group(group).w1().mul_(scale);
    layer->group(group).w2().add_(0.05);
  };

  train_only(*layer, 2);
  expect_same(pass(*layer, 2), fresh_pass(2), "the newest group trains");
  step(2, 0.9);
  expect_same(pass(*layer, 2), fresh_pass(2), "groups 0 and 1 served from the cache");

  train_only(*layer, 0);
  expect_same(pass(*layer, 0), fresh_pass(0), "group 0 trains, stacked while it was frozen");
  step(0, 1.3);
  expect_same(pass(*layer, 0), fresh_pass(0), "group 0 after an update");
  step(0, 0.7);
  expect_same(pass(*layer, 0), fresh_pass(0), "group 0 after a second update");

  train_only(*layer, 2);
  expect_same(pass(*layer, 2), fresh_pass(2), "group 0 frozen again with its new weights");
  expect_same(pass(*layer, 2), fresh_pass(2), "and served from the cache");
}

TEST(Router, GateIsMixtralsRenormalisedTopKAndLossesMatchHandComputation) {
  const int64_t n = 50, d = 8, e = 6, k = 2;
  const torch::Tensor x = seeded_normal({n, d}, 1.0, 1);
  const torch::Tensor w_a = seeded_normal({4, d}, 1.0, 2);
  const torch::Tensor w_b = seeded_normal({2, d}, 1.0, 3);
  const RouterDecision decision = route_tokens(x, {w_a, w_b}, {torch::Tensor(), torch::Tensor()}, {k, 0.0, false, {}});

  const torch::Tensor logits = torch::cat({torch::matmul(x, w_a.t()), torch::matmul(x, w_b.t())}, 1);
  // Mixtral: softmax over all experts, keep the top-k, renormalise.
  const auto [top_probs, top_index] = torch::softmax(logits, 1).topk(k, 1);
  EXPECT_TRUE(torch::equal(decision.expert_index, top_index));
  EXPECT_LT(relative_error(decision.gate, top_probs / top_probs.sum(1, true)), 1e-6);

  const torch::Tensor counts = torch::bincount(top_index.reshape({-1}), {}, e);
  EXPECT_TRUE(torch::equal(decision.counts, counts));
  const torch::Tensor fraction = counts.to(torch::kDouble) / static_cast<double>(n * k);
  const torch::Tensor mean_prob = torch::softmax(logits.to(torch::kDouble), 1).mean(0);
  const double balance = (fraction * mean_prob).sum().item<double>() * e;
  EXPECT_NEAR(decision.load_balance_loss.item<double>(), balance, 1e-6);
  const double z = logits.to(torch::kDouble).exp().sum(1).log().pow(2).mean().item<double>();
  EXPECT_NEAR(decision.z_loss.item<double>(), z, 1e-5 * z);
}

TEST(Router, UniformRoutingHasBalanceLossOne) {
  // Zero gate rows: every expert has probability 1/E; topk picks by index, and with k = E every expert is chosen.
  const torch::Tensor x = seeded_normal({12, 4}, 1.0, 1);
  const RouterDecision decision = route_tokens(x, {torch::zeros({3, 4})}, {torch::Tensor()}, {3, 0.0, false, {}});
  EXPECT_NEAR(decision.load_balance_loss.item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(decision.z_loss.item<double>(), std::pow(std::log(3.0), 2), 1e-6);
}

TEST(Router, NoiseOnlyInTrainingAndReproducibleFromTheGenerator) {
  const torch::Tensor x = seeded_normal({200, 8}, 1.0, 1);
  const torch::Tensor w = seeded_normal({8, 8}, 0.2, 2);
  const std::vector<torch::Tensor> weights{w}, biases{torch::Tensor()};
  const RouterDecision clean = route_tokens(x, weights, biases, {2, 0.0, false, {}});
  const RouterDecision eval = route_tokens(x, weights, biases, {2, 1.0, false, cpu_generator(1)});
  EXPECT_TRUE(torch::equal(clean.expert_index, eval.expert_index)) << "no noise outside training";
  const RouterDecision a = route_tokens(x, weights, biases, {2, 1.0, true, cpu_generator(1)});
  const RouterDecision b = route_tokens(x, weights, biases, {2, 1.0, true, cpu_generator(1)});
  const RouterDecision c = route_tokens(x, weights, biases, {2, 1.0, true, cpu_generator(2)});
  EXPECT_TRUE(torch::equal(a.expert_index, b.expert_index));
  EXPECT_FALSE(torch::equal(a.expert_index, clean.expert_index));
  EXPECT_FALSE(torch::equal(a.expert_index, c.expert_index));
}

}  // namespace
}  // namespace grove::model
