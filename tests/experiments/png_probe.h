// Reads a PNG (8-bit grey, grey+alpha, RGB, RGBA or palette; not interlaced) and summarises its pixels, so a test
// can tell a rendered page from a blank one without an image library. Throws std::runtime_error on anything else.
#pragma once

#include <cstdint>
#include <filesystem>

namespace grove::testing {

struct PngSummary {
  uint32_t width = 0;
  uint32_t height = 0;
  double non_white_fraction = 0;  // pixels with any channel below 240
  size_t distinct_colors = 0;     // distinct RGB values, quantised to 5 bits per channel
};

PngSummary probe_png(const std::filesystem::path& path);

}  // namespace grove::testing
