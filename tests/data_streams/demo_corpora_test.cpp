// The six demo corpora end to end (slow: about a minute on 2 cores): `grove ingest --spec` registers six
// distributions, a tokenizer trained on all of them round-trips every document of every distribution through its
// shards byte for byte, and ingesting them all again does no work.
#include <gtest/gtest.h>

#include "data_streams/data_layout.h"
#include "data_streams/document_store.h"
#include "data_streams/shard_reader.h"
#include "data_streams/tokenizer_registry.h"
#include "registry/distributions.h"
#include "registry/shards.h"
#include "tests/data_streams/test_corpora.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

namespace fs = std::filesystem;

const char* const kDemo[] = {"en_fortunes", "de_fortunes", "ru_fortunes", "es_fortunes", "it_fortunes", "python_docs"};

std::vector<std::string> spec_args(const fs::path& registry) {
  std::vector<std::string> args{"ingest"};
  for (const char* name : kDemo) {
    args.push_back("--spec");
    args.push_back(testing::source_dir() + "/data_streams/specs/" + name + ".yaml");
  }
  args.push_back("--registry");
  args.push_back(registry.string());
  return args;
}

TEST(DemoCorpora, IngestTokenizeRoundTripEveryDocumentAndReingestIsUnchanged) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  testing::TempDir dir("grove-demo-data");
  const fs::path registry_path = dir / "grove.db";
  const auto first = testing::run_grove(spec_args(registry_path));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto trained = testing::run_grove({"tokenizer", "train", "--on", "en_fortunes", "de_fortunes", "ru_fortunes",
                                           "es_fortunes", "it_fortunes", "python_docs", "--vocab-size", "8000",
                                           "--sample-mb", "1", "--tokenize-all", "--registry", registry_path.string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;

  auto db = registry::Database::open(registry_path, registry::OpenMode::kReadOnly);
  const auto distributions = registry::list_distributions(db);
  ASSERT_EQ(distributions.size(), 6u);
  const auto tokenizer_row = newest_tokenizer(db);
  ASSERT_TRUE(tokenizer_row);
  const Tokenizer tokenizer = load_registered_tokenizer(db, *tokenizer_row);
  const DataLayout layout(registry_path.parent_path());
  for (const auto& distribution : distributions) {
    SCOPED_TRACE(distribution.name);
    EXPECT_GT(distribution.n_docs.value_or(0), 100);
    const DocumentStore store = DocumentStore::open(layout.resolve(distribution.shard_dir));
    const auto train_row = registry::find_shard(db, distribution.id, tokenizer_row->id, registry::Split::kTrain);
    const auto holdout_row = registry::find_shard(db, distribution.id, tokenizer_row->id, registry::Split::kHoldout);
    ASSERT_TRUE(train_row && holdout_row);
    EXPECT_GT(holdout_row->n_docs, 0);
    const ShardReader train = ShardReader::open(layout.resolve(train_row->path));
    const ShardReader holdout = ShardReader::open(layout.resolve(holdout_row->path));
    uint64_t next_train = 0, next_holdout = 0, checked = 0;
    std::vector<int64_t> buffer;
    for (uint64_t i = 0; i < store.size(); ++i) {
      const ShardReader& shard = store.is_holdout(i) ? holdout : train;
      const ShardDocument doc = shard.document(store.is_holdout(i) ? next_holdout++ : next_train++);
      buffer.resize(doc.token_count);
      shard.copy_tokens(doc.token_offset, doc.token_count, buffer.data());
      ASSERT_EQ(buffer[0], static_cast<int64_t>(tokenizer.bos_id()));
      const std::vector<TokenId> ids(buffer.begin(), buffer.end());
      ASSERT_EQ(tokenizer.decode(ids), store.document(i)) << "document " << i;
      ASSERT_EQ(doc.utf8_bytes, store.document(i).size());
      ++checked;
    }
    EXPECT_EQ(checked, static_cast<uint64_t>(distribution.n_docs.value_or(0)));
  }

  const auto again = testing::run_grove(spec_args(registry_path));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  size_t unchanged = 0;
  for (size_t at = again.out.find("(unchanged)"); at != std::string::npos; at = again.out.find("(unchanged)", at + 1)) {
    ++unchanged;
  }
  EXPECT_EQ(unchanged, 6u) << again.out;
  EXPECT_NE(again.out.find("already there"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace grove::data
