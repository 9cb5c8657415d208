#include "experiments/report/svg.h"

#include <fmt/format.h>

#include <cmath>

#include "experiments/report/text_escape.h"

namespace grove::experiments::report {

double estimate_text_width(std::string_view text, double font_size) {
  double ems = 0.0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation byte
    // Three-byte sequences from U+1100 upward are mostly CJK and full-width forms: one em each.
    const bool wide = byte >= 0xE1 && byte <= 0xEF;
    ems += wide ? 1.0 : (byte >= 'A' && byte <= 'Z') ? 0.68 : 0.58;
  }
  return ems * font_size;
}

Svg::Svg(double width, double height, std::string id, std::string_view label)
    : width_(width), height_(height), id_(std::move(id)), label_(label) {}

std::string Svg::num(double value) {
  if (!std::isfinite(value)) return "0";
  std::string text = fmt::format("{:.2f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string Svg::style_attributes(const ShapeStyle& style) const {
  std::string out = fmt::format(" fill=\"{}\"", escape_xml(style.fill));
  if (!style.stroke.empty()) {
    out += fmt::format(" stroke=\"{}\" stroke-width=\"{}\"", escape_xml(style.stroke), num(style.stroke_width));
  }
  if (!style.dash.empty()) out += fmt::format(" stroke-dasharray=\"{}\"", escape_xml(style.dash));
  if (style.opacity < 1.0) out += fmt::format(" opacity=\"{}\"", num(style.opacity));
  return out;
}

void Svg::close_with_tooltip(std::string_view element, std::string_view tooltip) {
  if (tooltip.empty()) {
    body_ += "/>\n";
  } else {
    body_ += fmt::format("><title>{}</title></{}>\n", escape_xml(tooltip), element);
  }
}

void Svg::rect(double x, double y, double w, double h, const ShapeStyle& style, std::string_view tooltip) {
  body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}", num(x), num(y), num(std::fmax(w, 0)),
                       num(std::fmax(h, 0)), style_attributes(style));
  close_with_tooltip("rect", tooltip);
}

void Svg::line(double x1, double y1, double x2, double y2, const ShapeStyle& style) {
  body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>\n", num(x1), num(y1), num(x2), num(y2),
                       style_attributes(style));
}

void Svg::polyline(const std::vector<Point>& points, const ShapeStyle& style, std::string_view tooltip) {
  std::string coordinates;
  for (const auto& [x, y] : points) coordinates += fmt::format("{}{},{}", coordinates.empty() ? "" : " ", num(x), num(y));
  body_ += fmt::format("<polyline points=\"{}\"{} stroke-linejoin=\"round\" stroke-linecap=\"round\"", coordinates,
                       style_attributes(style));
  close_with_tooltip("polyline", tooltip);
}

void Svg::path(std::string_view d, const ShapeStyle& style, std::string_view tooltip) {
  body_ += fmt::format("<path d=\"{}\"{}", escape_xml(d), style_attributes(style));
  close_with_tooltip("path", tooltip);
}

void Svg::circle(double cx, double cy, double r, const ShapeStyle& style, std::string_view tooltip) {
  body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"{}", num(cx), num(cy), num(r), style_attributes(style));
  close_with_tooltip("circle", tooltip);
}

void Svg::text(double x, double y, std::string_view content, const TextStyle& style, std::string_view tooltip) {
  std::string attributes = fmt::format("x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"", num(x), num(y),
                                       num(style.size), escape_xml(style.fill));
  if (style.anchor != "start") attributes += fmt::format(" text-anchor=\"{}\"", style.anchor);
  if (!style.weight.empty()) attributes += fmt::format(" font-weight=\"{}\"", style.weight);
  if (style.middle_baseline) attributes += " dominant-baseline=\"central\"";
  if (style.rotate != 0.0) {
    attributes += fmt::format(" transform=\"rotate({} {} {})\"", num(style.rotate), num(x), num(y));
  }
  const std::string title = tooltip.empty() ? "" : fmt::format("<title>{}</title>", escape_xml(tooltip));
  body_ += fmt::format("<text {}>{}{}</text>\n", attributes, title, escape_xml_line(content));
}

std::string Svg::hatch_fill() {
  if (!hatch_defined_) {
    defs_ += fmt::format(
        "<pattern id=\"{}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
        "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f0f0f0\"/>"
        "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c4c4c4\" stroke-width=\"2.5\"/></pattern>\n",
        escape_xml(id_));
    hatch_defined_ = true;
  }
  return fmt::format("url(#{}-hatch)", id_);
}

void Svg::missing_box(double x, double y, double w, double h, std::string_view tooltip, std::string_view label) {
  rect(x, y, w, h, {hatch_fill(), "#c4c4c4", 0.5}, tooltip);
  const double size = std::fmin(11.0, std::fmax(8.0, h * 0.5));
  if (w >= estimate_text_width(label, size) + 2 && h >= size) {
    text(x + w / 2, y + h / 2, label, {size, "middle", "#57606a", "", 0.0, true}, tooltip);
  }
}

std::string Svg::str() const {
  // width/height give the natural size; the page's CSS lets the chart shrink with the viewport (viewBox).
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, "
      "'Noto Sans', 'DejaVu Sans', sans-serif\">\n{}{}</svg>",
      escape_xml(id_), num(width_), num(height_), num(width_), num(height_), escape_xml_line(label_),
      defs_.empty() ? "" : "<defs>\n" + defs_ + "</defs>\n", body_);
}

}  // namespace grove::experiments::report
