#include "experiments/report/number_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace grove::experiments::report {

std::string format_fixed(double value, int decimals) {
  std::string text = fmt::format("{:.{}f}", value, decimals);
  if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

std::string format_fixed(const std::optional<double>& value, int decimals) {
  return value ? format_fixed(*value, decimals) : kMissing;
}

std::string format_signed(const std::optional<double>& value, int decimals) {
  if (!value) return kMissing;
  const std::string text = format_fixed(*value, decimals);
  return (text.front() == '-' || text.find_first_not_of("0.") == std::string::npos) ? text : "+" + text;
}

std::string format_integer(int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string format_count(const std::optional<int64_t>& value) {
  if (!value) return kMissing;
  const double v = static_cast<double>(*value);
  const double magnitude = std::fabs(v);
  if (magnitude >= 1e9) return fmt::format("{:.2f}B", v / 1e9);
  if (magnitude >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (magnitude >= 1e5) return fmt::format("{:.1f}K", v / 1e3);
  return format_integer(*value);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = lo == 0.0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * 10.0;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  }
  const double first = std::floor(lo / step + 1e-9) * step;
  std::vector<double> ticks;
  for (double t = first;; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

int tick_decimals(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 0;
  const double step = ticks[1] - ticks[0];
  for (int decimals = 0; decimals < 6; ++decimals) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return decimals;
  }
  return 6;
}

}  // namespace grove::experiments::report
