// Shards and document stores on disk: what is written reads back exactly (uint16 and uint32 widths), the header is
// validated, and an altered or truncated file is a DataError naming it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/errors.h"
#include "data_streams/document_store.h"
#include "data_streams/shard_reader.h"
#include "data_streams/shard_writer.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

void flip_byte(const fs::path& path, std::streamoff offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(offset);
  char c = 0;
  file.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  file.seekp(offset);
  file.write(&c, 1);
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

ShardInfo write_sample(const fs::path& prefix, uint32_t vocab) {
  ShardWriter writer(prefix, vocab, 1, 3, 0xABCDEF);
  const std::vector<TokenId> a{1, 10, 20, vocab - 1};
  const std::vector<TokenId> b{1, 5};
  writer.add(a, 12);
  writer.add(b, 3);
  return writer.finish();
}

TEST(Shards, RoundTripWithBothTokenWidths) {
  TempDir dir;
  for (const uint32_t vocab : {8000u, 65536u, 70000u}) {
    const auto info = write_sample(dir / fmt::format("s{}", vocab), vocab);
    EXPECT_EQ(info.docs, 2u);
    EXPECT_EQ(info.tokens, 6u);
    EXPECT_EQ(info.bytes, 15u);
    const auto shard = ShardReader::open(info.index_path);
    EXPECT_EQ(shard.token_width(), vocab <= 65536 ? 2u : 4u);
    EXPECT_EQ(fs::file_size(info.tokens_path), 6u * shard.token_width());
    EXPECT_EQ(shard.tokens(), 6u);
    EXPECT_EQ(shard.vocab_size(), vocab);
    EXPECT_EQ(shard.bos_id(), 1u);
    EXPECT_EQ(shard.pad_id(), 3u);
    EXPECT_EQ(shard.tokenizer_hash(), 0xABCDEFu);
    EXPECT_EQ(shard.token(3), vocab - 1);
    std::vector<int64_t> out(6);
    shard.copy_tokens(0, 6, out.data());
    EXPECT_EQ(out, (std::vector<int64_t>{1, 10, 20, vocab - 1, 1, 5}));
    const ShardDocument second = shard.document(1);
    EXPECT_EQ(second.token_offset, 4u);
    EXPECT_EQ(second.token_count, 2u);
    EXPECT_EQ(second.utf8_bytes, 3u);
  }
}

TEST(Shards, AlteredTokenFileFailsVerificationNamingIt) {
  TempDir dir;
  const auto info = write_sample(dir / "train", 8000);
  flip_byte(info.tokens_path, 2);
  const std::string message = error_of([&] { ShardReader::open(info.index_path); });
  EXPECT_NE(message.find(info.tokens_path.string() + ": checksum mismatch"), std::string::npos) << message;
  // Deferred verification: open succeeds, verify() throws.
  const auto shard = ShardReader::open(info.index_path, ShardReader::Verify::kLater);
  EXPECT_THROW(shard.verify(), DataError);
}

TEST(Shards, DamagedHeaderOrTruncatedFilesAreRejected) {
  TempDir dir;
  const auto info = write_sample(dir / "a", 8000);
  flip_byte(info.index_path, 0);
  EXPECT_NE(error_of([&] { ShardReader::open(info.index_path); }).find("not a Grove shard index"), std::string::npos);
  const auto other = write_sample(dir / "b", 8000);
  fs::resize_file(other.tokens_path, 4);
  const std::string message = error_of([&] { ShardReader::open(other.index_path); });
  EXPECT_NE(message.find(other.tokens_path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST(DocumentStore, RoundTripAndChecksum) {
  TempDir dir;
  {
    DocumentStoreWriter writer(dir / "store");
    writer.add("first document", false);
    writer.add("второй", true);
    writer.add("third", false);
    writer.finish(0x1234);
  }
  const auto store = DocumentStore::open(dir / "store");
  ASSERT_EQ(store.size(), 3u);
  EXPECT_EQ(store.document(1), "второй");
  EXPECT_TRUE(store.is_holdout(1));
  EXPECT_FALSE(store.is_holdout(2));
  EXPECT_EQ(store.holdout_docs(), 1u);
  EXPECT_EQ(store.fingerprint(), 0x1234u);
  flip_byte(dir / "store" / kDocumentTextFile, 3);
  const std::string message = error_of([&] { DocumentStore::open(dir / "store"); });
  EXPECT_NE(message.find("documents.txt: checksum mismatch"), std::string::npos) << message;
}

}  // namespace
}  // namespace grove::data
