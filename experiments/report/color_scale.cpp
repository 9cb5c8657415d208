#include "experiments/report/color_scale.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace grove::experiments::report {
namespace {

// Published control points, evenly spaced along each scale.
const std::vector<std::string> kViridis = {"#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
                                           "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"};
const std::vector<std::string> kCividis = {"#00224e", "#123570", "#3b496c", "#575d6d", "#707173", "#8a8678",
                                           "#a59c74", "#c3b369", "#e1cc55", "#fee838"};
const std::vector<std::string> kRdBu = {"#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                                        "#fddbc7", "#f4a582", "#d6604d", "#b2182b"};
const std::vector<std::string> kOkabeIto = {"#0072b2", "#e69f00", "#009e73", "#d55e00",
                                            "#cc79a7", "#56b4e9", "#000000", "#c9b800"};

double linear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }

int channel(const std::string& hex, size_t at) { return std::stoi(hex.substr(at, 2), nullptr, 16); }

}  // namespace

Rgb parse_hex(const std::string& hex) {
  if (hex.size() != 7 || hex[0] != '#') throw std::invalid_argument("parse_hex: expected #rrggbb, got " + hex);
  return {channel(hex, 1) / 255.0, channel(hex, 3) / 255.0, channel(hex, 5) / 255.0};
}

std::string to_hex(Rgb color) {
  auto byte = [](double c) { return static_cast<int>(std::lround(std::clamp(c, 0.0, 1.0) * 255.0)); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(color.r), byte(color.g), byte(color.b));
}

double relative_luminance(Rgb color) {
  return 0.2126 * linear(color.r) + 0.7152 * linear(color.g) + 0.0722 * linear(color.b);
}

std::string text_color_on(Rgb background) {
  // Contrast ratios against black and white (WCAG): pick the larger.
  const double l = relative_luminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}

ColorScale::ColorScale(ScaleKind kind, double lo, double hi, bool reversed)
    : kind_(kind), lo_(lo), hi_(hi), reversed_(reversed) {
  const auto& points = kind == ScaleKind::kViridis ? kViridis : kind == ScaleKind::kCividis ? kCividis : kRdBu;
  for (const auto& hex : points) stops_.push_back(parse_hex(hex));
  if (!(hi_ > lo_)) {  // one value only: give the scale some width so it maps to the middle
    const double pad = lo_ == 0.0 ? 1.0 : std::fabs(lo_) * 0.05;
    lo_ -= pad;
    hi_ += pad;
  }
}

Rgb ColorScale::at_fraction(double t) const {
  t = std::clamp(reversed_ ? 1.0 - t : t, 0.0, 1.0);
  const double position = t * static_cast<double>(stops_.size() - 1);
  const size_t i = std::min(static_cast<size_t>(position), stops_.size() - 2);
  const double f = position - static_cast<double>(i);
  const Rgb& a = stops_[i];
  const Rgb& b = stops_[i + 1];
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

Rgb ColorScale::at(double value) const { return at_fraction((value - lo_) / (hi_ - lo_)); }

std::string series_color(size_t index) { return kOkabeIto[index % kOkabeIto.size()]; }

std::string series_dash(size_t index) {
  switch ((index / kOkabeIto.size()) % 3) {
    case 0: return "";
    case 1: return "7 4";
    default: return "2 3";
  }
}

}  // namespace grove::experiments::report
