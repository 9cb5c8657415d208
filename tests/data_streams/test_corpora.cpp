#include "tests/data_streams/test_corpora.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <stdexcept>

namespace grove::testing {
namespace {

const char* const kWords[] = {"river", "stone", "quiet", "lamp", "north", "garden", "letter", "seven", "window",
                              "bright", "copper", "winter", "market", "song", "paper", "harbor", "silver", "engine",
                              "forest", "question", "answer", "slowly", "under", "before", "always", "tomorrow"};

uint64_t next(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<std::string> synthetic_documents(size_t count, uint64_t seed) {
  std::vector<std::string> docs;
  uint64_t state = seed;
  for (size_t d = 0; d < count; ++d) {
    std::string doc = "Note " + std::to_string(seed) + "-" + std::to_string(d) + ":";
    const size_t sentences = 1 + next(state) % 3;
    for (size_t s = 0; s < sentences; ++s) {
      doc += s == 0 ? " " : "\n";
      const size_t words = 4 + next(state) % 8;
      for (size_t w = 0; w < words; ++w) {
        if (w > 0) doc += ' ';
        doc += kWords[next(state) % (sizeof(kWords) / sizeof(kWords[0]))];
      }
      doc += '.';
    }
    docs.push_back(doc);
  }
  return docs;
}

std::string as_fortune_file(const std::vector<std::string>& documents) {
  std::string out;
  for (size_t i = 0; i < documents.size(); ++i) out += documents[i] + "\n%\n";
  return out;
}

std::string gzip_bytes(const std::string& bytes) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
  std::string out(deflateBound(&stream, bytes.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string zstd_bytes(const std::string& bytes) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const size_t size = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3);
  if (ZSTD_isError(size)) throw std::runtime_error("zstd");
  out.resize(size);
  return out;
}

std::filesystem::path debian_fortune(const std::string& name) {
  return std::filesystem::path("/usr/share/games/fortunes") / name;
}

bool have_debian_corpora() {
  return std::filesystem::exists(debian_fortune("cookie")) && std::filesystem::exists(debian_fortune("computers")) &&
         std::filesystem::exists("/usr/share/games/fortunes/ru") &&
         std::filesystem::exists("/usr/share/doc/python3.11/html/_sources");
}

}  // namespace grove::testing
