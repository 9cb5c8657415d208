// orch::AdamW on CUDA (label gpu; skips without a device): Grove's one-launch kernel (model/fused_adamw.h) against
// ATen's fused AdamW (the same optimizer with the fused-kernel switch off) and against the CPU loop, which
// training_math_test checks against torch::optim::AdamW. The parameters cover every branch of the kernel: 16-byte
// vectors over more chunks than the device runs blocks at once (so blocks walk several), with a partial last one;
// an empty parameter; a size that is not a multiple of 4 (scalar path); a gradient whose storage is not 16-byte
// aligned (scalar path); an undecayed bias; clipping that is and is not active; and a parameter without a gradient
// in one step (its step count stays behind).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vector>

#include "model/fused_adamw.h"
#include "model/fused_switch.h"
#include "model/torch_compat.h"
#include "orchestrator/adamw.h"
#include "tests/support/tensor_compare.h"

namespace grove::orch {
namespace {

struct Model {
  std::vector<torch::Tensor> params;
  std::unique_ptr<AdamW> optimizer;

  Model(const std::vector<torch::Tensor>& initial, const torch::Device& device) {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (size_t i = 0; i < initial.size(); ++i) {
      params.push_back(initial[i].to(device).clone().requires_grad_(true));
      named.emplace_back(fmt::format("p{}", i), params.back());
    }
    optimizer = std::make_unique<AdamW>(named, AdamWOptions{0.9, 0.95, 1e-8, 0.1});
  }

  // Gradients for step `step`: the same values on every device; parameter 2's are stored at an odd offset (not
  // 16-byte aligned), and parameter 4 gets none in step 1.
  void set_gradients(const std::vector<torch::Tensor>& grads, int step) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      if (i == 4 && step == 1) {
        params[i].mutable_grad() = torch::Tensor();
        continue;
      }
      const torch::Tensor g = grads[i].to(params[i].device());
      if (i == 2) {
        torch::Tensor storage = torch::empty({g.numel() + 1}, g.options());
        torch::Tensor view = storage.narrow(0, 1, g.numel()).view(g.sizes());
        view.copy_(g);
        params[i].mutable_grad() = view;
      } else {
        params[i].mutable_grad() = g.clone();
      }
    }
  }
};

using grove::testing::relative_error;

TEST(AdamWCuda, GroveKernelMatchesAtenFusedAndTheCpuLoop) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::has_fused_adamw(torch::Device(torch::kCUDA))) GTEST_SKIP() << "LibTorch without fused AdamW";
  const torch::Device cuda(torch::kCUDA);
  torch::manual_seed(11);
  const std::vector<torch::Tensor> initial{
      torch::randn({6000, 5000}),  // 30 M values: 458 chunks of 65,536, more than the H200 holds blocks at once
                                   // (132 SMs x 3), so blocks walk several chunks; a partial last one; vectorised
      torch::randn({37, 53}),     // 1,961 values: not a multiple of 4, scalar path
      torch::randn({64, 96}),     // gradient misaligned by one value: scalar path
      torch::randn({96}),         // a bias: no weight decay
      torch::randn({8, 16, 24}),  // skipped in step 1
      torch::randn({0, 8}),       // no values: no chunk, but its step count still advances
  };
  ASSERT_GT(initial[0].numel(), 400 * 65536);  // kAdamwChunk in model/adamw_kernels.h (nvcc-only header)
  Model grove(initial, cuda), aten(initial, cuda), loop(initial, torch::Device(torch::kCPU));
  ASSERT_TRUE(grove.optimizer->fused());

  const uint64_t launches_before = model::fused::launches();
  // max_norm 1e9 never clips, 1.0 always does (the gradients' norm is in the thousands), 0 turns clipping off.
  const std::vector<double> max_norms{1e9, 1.0, 0.0, 1.0};
  for (int step = 0; step < static_cast<int>(max_norms.size()); ++step) {
    std::vector<torch::Tensor> grads;
    for (const auto& p : initial) grads.push_back(torch::randn(p.sizes()) * (1.0 + step));
    const double lr = 1e-2 / (1 + step);
    for (Model* m : {&grove, &aten, &loop}) m->set_gradients(grads, step);
    const torch::Tensor norm_grove = grove.optimizer->clip_and_step(lr, max_norms[step]);
    torch::Tensor norm_aten;
    {
      const model::fused::ScopedSwitch off(false);
      norm_aten = aten.optimizer->clip_and_step(lr, max_norms[step]);
    }
    const torch::Tensor norm_loop = loop.optimizer->clip_and_step(lr, max_norms[step]);
    EXPECT_NEAR(norm_grove.item<double>(), norm_loop.item<double>(), 1e-3 * norm_loop.item<double>()) << step;
    EXPECT_NEAR(norm_aten.item<double>(), norm_loop.item<double>(), 1e-3 * norm_loop.item<double>()) << step;
  }
  EXPECT_GE(model::fused::launches() - launches_before, max_norms.size()) << "Grove's kernel did not run";

  for (size_t i = 0; i < initial.size(); ++i) {
    SCOPED_TRACE(fmt::format("parameter {}", i));
    EXPECT_LE(relative_error(grove.params[i], aten.params[i]), 1e-6);
    EXPECT_LE(relative_error(grove.params[i], loop.params[i]), 1e-5);
    if (initial[i].numel() > 0) {
      EXPECT_GT((grove.params[i].detach().cpu() - initial[i]).abs().max().item<double>(), 1e-3) << "it moved";
    }
  }
  const auto grove_state = grove.optimizer->state_tensors();
  const auto aten_state = aten.optimizer->state_tensors();
  for (const auto& [name, tensor] : aten_state) {
    SCOPED_TRACE(name);
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".step") == 0) {
      EXPECT_EQ(grove_state.at(name).item<float>(), tensor.item<float>());
    } else {
      EXPECT_LE(relative_error(grove_state.at(name), tensor), 1e-6);
    }
  }
  EXPECT_EQ(grove_state.at("optim.p0.step").item<float>(), 4.0f);
  EXPECT_EQ(grove_state.at("optim.p4.step").item<float>(), 3.0f) << "no gradient in step 1: not stepped";
  EXPECT_EQ(grove_state.at("optim.p5.step").item<float>(), 4.0f) << "an empty parameter's step count advances";
}

// bf16 gradients of fp32 parameters, as the expert GEMMs leave them (model::ExpertGradients::kGemmDtype), beside an
// fp32 one (the bias), as in a training step: Grove's kernel reads them as they are, on its vectorised and scalar
// paths, and updates exactly as with their fp32 copies (without clipping bit for bit; with it the clipping norm,
// accumulated in fp32 from either, may differ in its last bits). With the fused kernels switched off ATen's kernel
// gets widened copies, and .grad is left as it was.
TEST(AdamWCuda, Bf16GradientsOfFp32ParametersUpdateAsTheirFp32Copies) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!compat::has_fused_adamw(torch::Device(torch::kCUDA))) GTEST_SKIP() << "LibTorch without fused AdamW";
  const torch::Device cuda(torch::kCUDA);
  torch::manual_seed(12);
  const std::vector<torch::Tensor> initial{torch::randn({1000, 700}), torch::randn({37, 53}), torch::randn({96})};
  Model bf16(initial, cuda), fp32(initial, cuda), aten(initial, cuda);
  ASSERT_TRUE(bf16.optimizer->fused());
  const std::vector<double> max_norms{0.0, 1e9, 1.0};
  for (int step = 0; step < static_cast<int>(max_norms.size()); ++step) {
    SCOPED_TRACE(fmt::format("step {}, max_norm {}", step, max_norms[step]));
    std::vector<torch::Tensor> grads;
    for (const auto& p : initial) grads.push_back((torch::randn(p.sizes()) * (1.0 + step)).to(cuda, torch::kBFloat16));
    grads[2] = grads[2].to(torch::kFloat);  // the bias's gradient in fp32: the clipping norm's list mixes dtypes
    for (size_t i = 0; i < initial.size(); ++i) {
      bf16.params[i].mutable_grad() = grads[i].clone();
      aten.params[i].mutable_grad() = grads[i].clone();
      fp32.params[i].mutable_grad() = grads[i].to(torch::kFloat);
    }
    const uint64_t launches_before = model::fused::launches();
    const double norm_bf16 = bf16.optimizer->clip_and_step(1e-2, max_norms[step]).item<double>();
    EXPECT_GT(model::fused::launches(), launches_before) << "Grove's kernel ran";
    const double norm_fp32 = fp32.optimizer->clip_and_step(1e-2, max_norms[step]).item<double>();
    double norm_aten = 0;
    {
      const model::fused::ScopedSwitch off(false);
      norm_aten = aten.optimizer->clip_and_step(1e-2, max_norms[step]).item<double>();
    }
    EXPECT_NEAR(norm_bf16, norm_fp32, 1e-6 * norm_fp32);
    EXPECT_NEAR(norm_aten, norm_fp32, 1e-6 * norm_fp32);
    for (size_t i = 0; i < initial.size(); ++i) {
      SCOPED_TRACE(fmt::format("parameter {}", i));
      const torch::ScalarType given = grads[i].scalar_type();
      EXPECT_EQ(bf16.params[i].grad().scalar_type(), given) << "Grove's kernel reads it as it is";
      EXPECT_EQ(aten.params[i].grad().scalar_type(), given) << "ATen's kernel gets a widened copy";
      if (max_norms[step] == 0.0) {
        EXPECT_TRUE(torch::equal(bf16.params[i], fp32.params[i])) << "without clipping, bit for bit";
      }
      EXPECT_LE(relative_error(bf16.params[i], fp32.params[i]), 1e-6);
      EXPECT_LE(relative_error(aten.params[i], fp32.params[i]), 1e-6);
    }
  }
  const auto bf16_state = bf16.optimizer->state_tensors();
  for (const auto& [name, tensor] : fp32.optimizer->state_tensors()) {
    EXPECT_LE(relative_error(bf16_state.at(name), tensor), 1e-6) << name;
  }
}

}  // namespace
}  // namespace grove::orch
