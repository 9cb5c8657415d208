#include "model/torch_compat.h"

#include <ATen/autocast_mode.h>
#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <chrono>
#include <cmath>
#include <map>
#include <vector>

namespace grove::compat {

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

bool cuda_available() { return torch::cuda::is_available(); }

bool has_native_grouped_mm(const torch::Device& device, torch::ScalarType dtype) {
  if constexpr (kTorchAtLeast2_8) {
    return device.is_cuda() && dtype == torch::kBFloat16;
  }
  return false;
}

torch::Tensor grouped_mm_loop(const torch::Tensor& a, const torch::Tensor& b,
                              const std::vector<int64_t>& host_offsets) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 3, "grouped_mm: expected a [M, K] and b [G, K, N]");
  TORCH_CHECK(static_cast<int64_t>(host_offsets.size()) == b.size(0), "grouped_mm: offsets must have G entries");
  std::vector<torch::Tensor> pieces;
  pieces.reserve(host_offsets.size() + 1);
  int64_t start = 0;
  for (size_t g = 0; g < host_offsets.size(); ++g) {
    const int64_t end = host_offsets[g];
    TORCH_CHECK(end >= start && end <= a.size(0), "grouped_mm: offsets must be non-decreasing and <= M");
    if (end > start) pieces.push_back(torch::matmul(a.slice(0, start, end), b[static_cast<int64_t>(g)]));
    start = end;
  }
  if (start < a.size(0)) pieces.push_back(torch::zeros({a.size(0) - start, b.size(2)}, a.options()));
  if (pieces.empty()) return torch::zeros({0, b.size(2)}, a.options());
  return torch::cat(pieces, 0);
}

torch::Tensor grouped_mm(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& offsets) {
#if (TORCH_VERSION_MAJOR > 2) || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
  if (has_native_grouped_mm(a.device(), a.scalar_type()) && b.scalar_type() == a.scalar_type()) {
    return at::_grouped_mm(a, b, offsets);
  }
#endif
  const torch::Tensor host = offsets.to(torch::kCPU, torch::kLong);
  std::vector<int64_t> host_offsets(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + host.numel());
  return grouped_mm_loop(a, b, host_offsets);
}

torch::Tensor grouped_mm_weight_grad(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& offsets) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(0) == b.size(0),
              "grouped_mm_weight_grad: expected a [M, P] and b [M, Q]");
#if (TORCH_VERSION_MAJOR > 2) || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
  if (has_native_grouped_mm(a.device(), a.scalar_type()) && b.scalar_type() == a.scalar_type()) {
    // a^T of a row-major [M, P] is column-major: the layout whose groups may be empty or of any size.
    return at::_grouped_mm(a.t(), b.contiguous(), offsets);
  }
#endif
  const torch::Tensor host = offsets.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* end = host.data_ptr<int64_t>();
  torch::Tensor out = torch::zeros({host.numel(), a.size(1), b.size(1)}, a.options());
  int64_t start = 0;
  for (int64_t g = 0; g < host.numel(); ++g) {
    TORCH_CHECK(end[g] >= start && end[g] <= a.size(0), "grouped_mm_weight_grad: offsets must be non-decreasing and <= M");
    if (end[g] > start) out[g].copy_(torch::matmul(a.slice(0, start, end[g]).t(), b.slice(0, start, end[g])));
    start = end[g];
  }
  return out;
}

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  bool is_causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (is_causal) {
    const int64_t t = q.size(-2);
    const int64_t s = k.size(-2);
    // Query i may attend to keys j <= i + (s - t): aligned at the end, as SDPA does.
    const torch::Tensor mask =
        torch::ones({t, s}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).triu(s - t + 1);
    scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  }
  const torch::Tensor probs = torch::softmax(scores.to(torch::kFloat), -1).to(q.scalar_type());
  return torch::matmul(probs, v);
}

torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                           bool is_causal) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, is_causal);
#else
  return attention_reference(q, k, v, is_causal);
#endif
}

#if TORCH_VERSION_MAJOR >= 2
bool autocast_enabled(torch::DeviceType device_type) { return at::autocast::is_autocast_enabled(device_type); }
torch::ScalarType autocast_dtype(torch::DeviceType device_type) { return at::autocast::get_autocast_dtype(device_type); }
namespace {
void set_autocast(torch::DeviceType device_type, bool enabled, torch::ScalarType dtype) {
  at::autocast::set_autocast_dtype(device_type, dtype);
  at::autocast::set_autocast_enabled(device_type, enabled);
}
}  // namespace
#else
bool autocast_enabled(torch::DeviceType device_type) {
  return device_type == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
torch::ScalarType autocast_dtype(torch::DeviceType device_type) {
  return device_type == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
namespace {
void set_autocast(torch::DeviceType device_type, bool enabled, torch::ScalarType dtype) {
  if (device_type == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
}
}  // namespace
#endif

torch::ScalarType gemm_dtype(const torch::Tensor& x) {
  const torch::DeviceType device = x.device().type();
  if ((device == torch::kCPU || device == torch::kCUDA) && autocast_enabled(device)) return autocast_dtype(device);
  return x.scalar_type();
}

AutocastGuard::AutocastGuard(torch::DeviceType device_type, torch::ScalarType dtype, bool enabled)
    : device_type_(device_type) {
  if (!enabled) return;
  previous_enabled_ = autocast_enabled(device_type);
  previous_dtype_ = autocast_dtype(device_type);
  set_autocast(device_type, true, dtype);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(device_type_, previous_enabled_, previous_dtype_);
}

bool has_fused_adamw(const torch::Device& device) {
#if TORCH_VERSION_MAJOR >= 2
  return device.is_cuda();
#else
  (void)device;
  return false;
#endif
}

void fused_adamw_(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& grads,
                  const std::vector<torch::Tensor>& exp_avgs, const std::vector<torch::Tensor>& exp_avg_sqs,
                  const std::vector<torch::Tensor>& steps, const AdamWHyper& hyper, const torch::Tensor& grad_divisor) {
#if TORCH_VERSION_MAJOR >= 2
  Optional<torch::Tensor> divisor;
  if (grad_divisor.defined()) divisor = grad_divisor;
  // The kernel reads each step count as is (bias corrections 1 - beta^step): torch.optim increments first, and so
  // must we, or the first update divides by 1 - beta^0 = 0.
  at::_foreach_add_(steps, 1);
  at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, hyper.lr, hyper.beta1,
                    hyper.beta2, hyper.weight_decay, hyper.eps, /*amsgrad=*/false, /*maximize=*/false, divisor,
                    /*found_inf=*/kNullopt);
#else
  (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps, (void)hyper, (void)grad_divisor;
  TORCH_CHECK(false, "fused_adamw_: LibTorch ", torch_version(), " has no fused AdamW kernel");
#endif
}

bool has_fused_rms_norm(const torch::Tensor& x) {
#if TORCH_VERSION_MAJOR >= 2 && (TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 8)
  return x.is_cuda();
#else
  (void)x;
  return false;
#endif
}

torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
#if TORCH_VERSION_MAJOR >= 2 && (TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 8)
  return at::rms_norm(x, {x.size(-1)}, weight, eps);
#else
  (void)weight, (void)eps;
  TORCH_CHECK(false, "fused_rms_norm: LibTorch ", torch_version(), " has no fused RMSNorm; x on ", x.device().str());
#endif
}

torch::Tensor tensor_norms(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return torch::zeros({0}, torch::kFloat);
#if (TORCH_VERSION_MAJOR > 2) || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
  if (tensors.front().is_cuda()) {
    // ATen's multi-tensor kernel runs only on a list of one dtype (given a mixed one it launches a norm per tensor),
    // and a training step's gradients are fp32 and bf16 (model::ExpertGradients::kGemmDtype): one call per dtype,
    // each accumulated in fp32, the norms put back in the tensors' order.
    std::map<torch::ScalarType, std::vector<size_t>> by_dtype;
    for (size_t i = 0; i < tensors.size(); ++i) by_dtype[tensors[i].scalar_type()].push_back(i);
    std::vector<torch::Tensor> norms(tensors.size());
    for (const auto& [dtype, indices] : by_dtype) {
      std::vector<torch::Tensor> same;
      for (const size_t i : indices) same.push_back(tensors[i]);
      const std::vector<torch::Tensor> group = at::_foreach_norm(same, 2, torch::kFloat);
      for (size_t j = 0; j < indices.size(); ++j) norms[indices[j]] = group[j];
    }
    return torch::stack(norms);
  }
#endif
  std::vector<torch::Tensor> norms;
  norms.reserve(tensors.size());
  // Accumulated in double, as orch::clip_gradient_norm does: an fp32 sum of millions of squares drifts.
  for (const auto& t : tensors) norms.push_back(t.detach().norm(2, torch::kDouble).to(torch::kFloat));
  return torch::stack(norms);
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

struct DeviceTimer::State {
  explicit State(const torch::Device& timed) : device(timed) {}
  torch::Device device;
  std::chrono::steady_clock::time_point started;
#if TORCH_VERSION_MAJOR >= 2
  std::unique_ptr<c10::Event> start_event, stop_event;
#endif
};

DeviceTimer::DeviceTimer(const torch::Device& device) : state_(std::make_unique<State>(device)) {
#if TORCH_VERSION_MAJOR >= 2
  if (device.is_cuda()) {
    state_->start_event = std::make_unique<c10::Event>(c10::DeviceType::CUDA, c10::EventFlag::BACKEND_DEFAULT);
    state_->stop_event = std::make_unique<c10::Event>(c10::DeviceType::CUDA, c10::EventFlag::BACKEND_DEFAULT);
  }
#endif
}

DeviceTimer::~DeviceTimer() = default;

bool DeviceTimer::uses_device_events() const {
#if TORCH_VERSION_MAJOR >= 2
  return state_->start_event != nullptr;
#else
  return false;
#endif
}

void DeviceTimer::start() {
#if TORCH_VERSION_MAJOR >= 2
  if (uses_device_events()) {
    const c10::impl::VirtualGuardImpl guard(c10::DeviceType::CUDA);
    state_->start_event->record(guard.getStream(state_->device));
    return;
  }
#endif
  synchronize(state_->device);
  state_->started = std::chrono::steady_clock::now();
}

double DeviceTimer::stop_ms() {
#if TORCH_VERSION_MAJOR >= 2
  if (uses_device_events()) {
    const c10::impl::VirtualGuardImpl guard(c10::DeviceType::CUDA);
    state_->stop_event->record(guard.getStream(state_->device));
    state_->stop_event->synchronize();
    return state_->start_event->elapsedTime(*state_->stop_event);
  }
#endif
  synchronize(state_->device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - state_->started).count();
}

}  // namespace grove::compat
