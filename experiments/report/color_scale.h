// Colours for the report's charts, chosen to stay readable for colour-blind readers and in greyscale print:
// sequential scales (viridis, cividis) and a diverging blue-white-red scale, each computed by interpolating its
// published control points; the Okabe-Ito categorical palette for series; and a text colour that keeps values
// written on a cell readable.
#pragma once

#include <string>
#include <vector>

namespace grove::experiments::report {

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0..1, sRGB
};

Rgb parse_hex(const std::string& hex);  // "#rrggbb"
std::string to_hex(Rgb color);          // "#rrggbb"

// WCAG relative luminance (0 black .. 1 white).
double relative_luminance(Rgb color);
// "#000" or "#fff", whichever contrasts more with `background`.
std::string text_color_on(Rgb background);

enum class ScaleKind {
  kViridis,    // sequential, dark purple -> yellow
  kCividis,    // sequential, dark blue -> yellow; optimised for colour-vision deficiency
  kDiverging,  // blue (negative) -> near white (zero) -> red (positive)
};

// Maps values in [lo, hi] to colours; values outside are clamped. A diverging scale is centred on zero with
// lo = -hi (the caller passes the largest magnitude).
class ColorScale {
 public:
  ColorScale(ScaleKind kind, double lo, double hi, bool reversed = false);
  Rgb at(double value) const;
  // Colour at a position t in [0, 1] along the scale (legends).
  Rgb at_fraction(double t) const;
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  ScaleKind kind() const { return kind_; }

 private:
  ScaleKind kind_;
  double lo_;
  double hi_;
  bool reversed_;
  std::vector<Rgb> stops_;
};

// Okabe-Ito colours (blue, orange, green, vermillion, purple, sky blue, black, yellow), cycling.
std::string series_color(size_t index);
// SVG stroke-dasharray for series beyond the palette, so the 9th series differs from the 1st: "" for the first
// cycle, then dashes, then dots.
std::string series_dash(size_t index);

}  // namespace grove::experiments::report
