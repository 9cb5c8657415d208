#include "tests/experiments/png_probe.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace grove::testing {
namespace {

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

}  // namespace

PngSummary probe_png(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 33 || !std::equal(signature, signature + 8, bytes.begin())) {
    throw std::runtime_error(path.string() + ": not a PNG file");
  }
  PngSummary summary;
  int depth = 0, color_type = 0, interlace = 0;
  std::vector<unsigned char> compressed, palette;
  for (size_t at = 8; at + 12 <= bytes.size();) {
    const uint32_t length = big_endian(&bytes[at]);
    const std::string type(bytes.begin() + static_cast<std::ptrdiff_t>(at + 4), bytes.begin() + static_cast<std::ptrdiff_t>(at + 8));
    const unsigned char* data = &bytes[at + 8];
    if (at + 12 + length > bytes.size()) throw std::runtime_error(path.string() + ": truncated chunk " + type);
    if (type == "IHDR") {
      summary.width = big_endian(data);
      summary.height = big_endian(data + 4);
      depth = data[8];
      color_type = data[9];
      interlace = data[12];
    } else if (type == "PLTE") {
      palette.assign(data, data + length);
    } else if (type == "IDAT") {
      compressed.insert(compressed.end(), data, data + length);
    }
    at += 12 + length;
  }
  const int channels = color_type == 0 ? 1 : color_type == 2 ? 3 : color_type == 3 ? 1 : color_type == 4 ? 2 : 4;
  if (depth != 8 || interlace != 0 || color_type == 1 || color_type == 5 || color_type > 6) {
    throw std::runtime_error(path.string() + ": unsupported PNG layout (depth " + std::to_string(depth) +
                             ", color type " + std::to_string(color_type) + ")");
  }
  const size_t stride = size_t{summary.width} * channels;
  std::vector<unsigned char> raw((stride + 1) * summary.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, compressed.data(), compressed.size()) != Z_OK || raw_size != raw.size()) {
    throw std::runtime_error(path.string() + ": cannot inflate the image data");
  }
  std::vector<unsigned char> previous(stride, 0), row(stride);
  std::set<uint32_t> colors;
  size_t non_white = 0;
  for (uint32_t y = 0; y < summary.height; ++y) {
    const unsigned char* line = &raw[y * (stride + 1)];
    const int filter = line[0];
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= static_cast<size_t>(channels) ? row[x - channels] : 0;
      const int b = previous[x];
      const int c = x >= static_cast<size_t>(channels) ? previous[x - channels] : 0;
      const int predictor = filter == 0 ? 0 : filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2 : paeth(a, b, c);
      row[x] = static_cast<unsigned char>(line[1 + x] + predictor);
    }
    for (uint32_t x = 0; x < summary.width; ++x) {
      const unsigned char* p = &row[size_t{x} * channels];
      unsigned r = p[0], g = p[0], b = p[0];
      if (color_type == 2 || color_type == 6) g = p[1], b = p[2];
      if (color_type == 3 && p[0] * 3u + 2 < palette.size()) r = palette[p[0] * 3u], g = palette[p[0] * 3u + 1], b = palette[p[0] * 3u + 2];
      if (r < 240 || g < 240 || b < 240) ++non_white;
      colors.insert(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    }
    std::swap(previous, row);
  }
  summary.non_white_fraction = static_cast<double>(non_white) / (double{1} * summary.width * summary.height);
  summary.distinct_colors = colors.size();
  return summary;
}

}  // namespace grove::testing
