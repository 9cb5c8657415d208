#include "common/hashing.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {

TEST(Hashing, KnownXxh3Values) {
  // Reference values of XXH3_64bits (seed 0) from the xxHash test vectors and `xxhsum -H3`.
  EXPECT_EQ(xxh3_64(std::string_view{}), 0x2D06800538D394C2ull);
  EXPECT_EQ(hash_hex(xxh3_64(std::string_view{})), "2d06800538d394c2");
}

TEST(Hashing, StreamEqualsOneShotForAnySplit) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += static_cast<char>('a' + (i * 7) % 26);
  const uint64_t whole = xxh3_64(text);
  for (size_t split : {size_t{0}, size_t{1}, size_t{239}, size_t{240}, size_t{4999}, text.size()}) {
    Xxh3Stream stream;
    stream.update(std::string_view(text).substr(0, split));
    stream.update(std::string_view(text).substr(split));
    EXPECT_EQ(stream.digest(), whole) << "split at " << split;
  }
  EXPECT_NE(xxh3_64(text, 1), whole) << "the seed must change the hash";
}

TEST(Hashing, FileHashEqualsContentHashAndMissingFileIsNamed) {
  testing::TempDir dir;
  const auto path = testing::write_file(dir / "doc.txt", "hello grove\n");
  EXPECT_EQ(xxh3_file(path), xxh3_64("hello grove\n"));
  try {
    xxh3_file(dir / "missing.txt");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos);
  }
}

}  // namespace
}  // namespace grove
