// A minimal SVG writer for the report's charts: shapes and text with styles, an optional hover tooltip on each
// (an SVG <title> child, which browsers show on hover and screen readers read), and a hatch pattern for missing
// values. Every string that reaches the output is escaped; coordinates are written with two decimals at most.
// Ids are prefixed with the chart's id, which must be unique in the HTML page (inline SVGs share one id space).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grove::experiments::report {

// Written as brace lists at call sites, e.g. {"none", "#57606a", 1} for a thin grey stroke.
struct ShapeStyle {
  ShapeStyle(std::string fill_color = "none", std::string stroke_color = "", double width = 1.0,
             std::string dash_array = "", double alpha = 1.0)
      : fill(std::move(fill_color)), stroke(std::move(stroke_color)), stroke_width(width),
        dash(std::move(dash_array)), opacity(alpha) {}
  std::string fill;
  std::string stroke;  // empty: no stroke
  double stroke_width;
  std::string dash;    // stroke-dasharray
  double opacity;
};

// Written as brace lists at call sites, e.g. {12, "end", "#57606a", "", 0.0, true}.
struct TextStyle {
  TextStyle(double font_size = 12.0, std::string text_anchor = "start", std::string color = "#1f2328",
            std::string font_weight = "", double rotation = 0.0, bool centred = false)
      : size(font_size), anchor(std::move(text_anchor)), fill(std::move(color)), weight(std::move(font_weight)),
        rotate(rotation), middle_baseline(centred) {}
  double size;
  std::string anchor;    // start | middle | end
  std::string fill;
  std::string weight;    // "" | "bold" | "600"
  double rotate;         // degrees, around the text's anchor point
  bool middle_baseline;  // vertically centred on y instead of sitting on it
};

using Point = std::pair<double, double>;

// Rendered width of `text` in px at `font_size`, estimated (0.6 em per character, 1 em for wide CJK ones).
double estimate_text_width(std::string_view text, double font_size);

class Svg {
 public:
  // `id`: unique in the page; `label`: what the chart shows, for screen readers (aria-label).
  Svg(double width, double height, std::string id, std::string_view label);

  double width() const { return width_; }
  double height() const { return height_; }
  const std::string& id() const { return id_; }

  // Each shape may carry a tooltip (plain text, escaped here); an empty one adds none.
  void rect(double x, double y, double w, double h, const ShapeStyle& style, std::string_view tooltip = {});
  void line(double x1, double y1, double x2, double y2, const ShapeStyle& style);
  void polyline(const std::vector<Point>& points, const ShapeStyle& style, std::string_view tooltip = {});
  void path(std::string_view d, const ShapeStyle& style, std::string_view tooltip = {});
  void circle(double cx, double cy, double r, const ShapeStyle& style, std::string_view tooltip = {});
  // One line of text; newlines in `content` become spaces.
  void text(double x, double y, std::string_view content, const TextStyle& style, std::string_view tooltip = {});

  // Fill of a missing cell or bar: grey with diagonal hatching (the pattern is defined once per chart).
  std::string hatch_fill();
  // A hatched box with "n/a" (or `label`) centred in it: how every chart draws a value that does not exist.
  void missing_box(double x, double y, double w, double h, std::string_view tooltip, std::string_view label = "n/a");

  // The complete <svg> element.
  std::string str() const;

  // A number as SVG writes it: at most two decimals, no trailing zeros.
  static std::string num(double value);

 private:
  std::string style_attributes(const ShapeStyle& style) const;
  void close_with_tooltip(std::string_view element, std::string_view tooltip);

  double width_;
  double height_;
  std::string id_;
  std::string label_;
  std::string defs_;
  std::string body_;
  bool hatch_defined_ = false;
};

}  // namespace grove::experiments::report
