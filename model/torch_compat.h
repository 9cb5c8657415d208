// The one place where LibTorch 1.13 (Debian, CPU) and LibTorch 2.x (torch wheel, CUDA) differ for Grove.
// Callers use these shims and never test TORCH_VERSION themselves:
//   - grouped GEMM (at::_grouped_mm on CUDA in 2.8+, a per-group loop otherwise), and its weight-gradient form,
//   - fused RMSNorm (at::rms_norm in 2.x; the caller's composite otherwise),
//   - multi-tensor norms (at::_foreach_norm) and fused AdamW with a gradient divisor,
//   - scaled dot-product attention (at::scaled_dot_product_attention in 2.x, an explicit causal softmax otherwise),
//   - autocast (2.x takes a device type; 1.13 has per-backend functions),
//   - optional / nullopt spellings,
//   - fused AdamW availability,
//   - device timing (CUDA events where c10::Event can time, a synchronised wall clock otherwise).
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <memory>
#include <optional>
#include <string>

namespace grove::compat {

inline constexpr int kTorchMajor = TORCH_VERSION_MAJOR;
inline constexpr int kTorchMinor = TORCH_VERSION_MINOR;
inline constexpr bool kTorchAtLeast2_8 = (kTorchMajor > 2) || (kTorchMajor == 2 && kTorchMinor >= 8);

// c10::optional became std::optional in LibTorch 2.x; both spell as these.
template <typename T>
using Optional = c10::optional<T>;
inline constexpr auto kNullopt = c10::nullopt;

// "1.13.1" or "2.11.0": the LibTorch the binary was compiled against.
std::string torch_version();
bool cuda_available();

// True when grouped_mm() below takes ATen's single-kernel path for tensors on `device` with `dtype`
// (CUDA, bf16, LibTorch >= 2.8); false means the per-group loop.
bool has_native_grouped_mm(const torch::Device& device, torch::ScalarType dtype);

// Grouped matrix product. `a`: [M, K] rows sorted by group; `b`: [G, K, N]; `offsets`: int32 [G], the cumulative
// end row of each group (offsets[G-1] <= M). Returns [M, N] where rows of group g are a[rows_g] @ b[g];
// rows past offsets[G-1] are zero. Differentiable in `a` and `b` on both paths.
torch::Tensor grouped_mm(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& offsets);

// The per-group loop used where the native kernel is missing; public so tests compare both paths.
// `host_offsets` holds the same cumulative ends on the host (the loop needs them to slice).
torch::Tensor grouped_mm_loop(const torch::Tensor& a, const torch::Tensor& b, const std::vector<int64_t>& host_offsets);

// The weight gradient of grouped_mm: `a` [M, P] and `b` [M, Q] with rows sorted by group, `offsets` int32 [G]
// cumulative row ends (offsets[G-1] <= M; later rows are ignored). Returns [G, P, Q] with result[g] =
// a[rows_g]^T @ b[rows_g]. Rows of an empty group are unspecified on the native path (callers mask them).
// Not differentiable. Native (at::_grouped_mm with a column-major `a`, which takes any group size) where
// has_native_grouped_mm(), a per-group loop on host-known offsets otherwise.
torch::Tensor grouped_mm_weight_grad(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& offsets);

// Causal (or not) attention: softmax(q k^T / sqrt(d) [+ causal mask]) v. q: [B, H, T, D], k/v: [B, H, S, D]
// (k/v may have fewer heads when the caller already expanded them for grouped-query attention: they must match q).
torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                           bool is_causal);
// The explicit implementation, always available; tests compare it with the fused one where LibTorch has that.
torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  bool is_causal);

// True where LibTorch has a fused RMSNorm kernel for `x` (at::rms_norm on CUDA, 2.x).
bool has_fused_rms_norm(const torch::Tensor& x);
// weight * x * rsqrt(mean(x^2, -1) + eps) in one kernel forward and one backward; call only where
// has_fused_rms_norm(x).
torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// L2 norm of every tensor in `tensors` as a 1-D fp32 tensor, accumulated in fp32 at least whatever their dtype (on
// CUDA with 2.8 and later one multi-tensor kernel per dtype among them, otherwise in double per tensor).
torch::Tensor tensor_norms(const std::vector<torch::Tensor>& tensors);

// RAII autocast scope: enables mixed precision with `dtype` on `device_type` for its lifetime and restores the
// previous state (enabled flag and dtype) afterwards. `enabled = false` makes it a no-op.
class AutocastGuard {
 public:
  AutocastGuard(torch::DeviceType device_type, torch::ScalarType dtype, bool enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  torch::DeviceType device_type_;
  bool active_ = false;
  bool previous_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat;
};

// Whether autocast is currently on for a device type (both API generations).
bool autocast_enabled(torch::DeviceType device_type);
torch::ScalarType autocast_dtype(torch::DeviceType device_type);
// The dtype a GEMM computes in for `x`: the autocast dtype when autocast is on for x's device (CPU or CUDA), else
// x's dtype.
torch::ScalarType gemm_dtype(const torch::Tensor& x);

// True when ATen has the fused multi-tensor AdamW kernel (at::_fused_adamw_, LibTorch 2.x) for `device`.
bool has_fused_adamw(const torch::Device& device);

// One at::_fused_adamw_ launch series over parallel lists (decoupled weight decay; every `steps` entry is incremented
// first, then gives the bias correction). `grad_divisor`, when defined, is a one-element fp32 device tensor every
// gradient is divided by inside the kernel (gradient clipping without a separate pass). Only where
// has_fused_adamw(); throws otherwise.
struct AdamWHyper {
  double lr, beta1, beta2, weight_decay, eps;
};
void fused_adamw_(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& grads,
                  const std::vector<torch::Tensor>& exp_avgs, const std::vector<torch::Tensor>& exp_avg_sqs,
                  const std::vector<torch::Tensor>& steps, const AdamWHyper& hyper, const torch::Tensor& grad_divisor);

// Elapsed device time of the work enqueued between start() and stop_ms(): CUDA events on the current stream for CUDA
// devices with LibTorch 2.x, a steady clock after a device synchronisation otherwise (CPU; CUDA with 1.13).
class DeviceTimer {
 public:
  explicit DeviceTimer(const torch::Device& device);
  ~DeviceTimer();
  DeviceTimer(const DeviceTimer&) = delete;
  DeviceTimer& operator=(const DeviceTimer&) = delete;

  void start();
  // Waits for the timed work to finish and returns its duration in milliseconds.
  double stop_ms();
  // True when this timer uses CUDA events.
  bool uses_device_events() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Waits until every kernel queued on `device` has finished (no-op on the CPU).
void synchronize(const torch::Device& device);

}  // namespace grove::compat
