// Small corpora for the data tests, made on the fly in a temporary folder: synthetic text with a fixed seed, and
// copies of real Debian fortune files, plus helpers to compress them as .gz/.zst.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace grove::testing {

// `count` documents of pseudo-random sentences (deterministic for a seed), each distinct.
std::vector<std::string> synthetic_documents(size_t count, uint64_t seed);
// Documents joined as a fortune file ("%" lines between them).
std::string as_fortune_file(const std::vector<std::string>& documents);
// gzip / zstd compression of `bytes`.
std::string gzip_bytes(const std::string& bytes);
std::string zstd_bytes(const std::string& bytes);
// A real fortune file shipped by Debian's fortunes packages.
std::filesystem::path debian_fortune(const std::string& name);
// Whether the Debian corpora the demo uses are installed (the GPU machine, for one, has none): tests that read them
// skip themselves otherwise with GROVE_SKIP_WITHOUT_DEBIAN_CORPORA().
bool have_debian_corpora();

#define GROVE_SKIP_WITHOUT_DEBIAN_CORPORA()                                                         \
  do {                                                                                              \
    if (!::grove::testing::have_debian_corpora()) GTEST_SKIP() << "Debian fortunes/python3.11-doc not installed"; \
  } while (false)

}  // namespace grove::testing
