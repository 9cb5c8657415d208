// Tokenizers, distributions and shards: the API data_streams records its ingests through.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "registry/distributions.h"
#include "registry/phases.h"
#include "registry/runs.h"
#include "registry/shards.h"
#include "registry/tokenizers.h"

namespace grove::registry {
namespace {

NewDistribution fortunes(const std::string& fingerprint) {
  return {"fortunes", "source: fortune\npaths: [/usr/share/games/fortunes/*]\n", fingerprint, "fortune", 1200,
          300000, 3, 1, "/data/shards/fortunes-" + fingerprint};
}

TEST(Tokenizers, AreStoredOncePerHashWithTheirTrainingDistributions) {
  Database db = Database::open_in_memory();
  const NewTokenizer tokenizer{"0123abcd", TokenizerKind::kBpe, 8000, "/m/tok.model", {"en", "de \"x\""}, 1 << 20};
  const int64_t id = register_tokenizer(db, tokenizer);
  EXPECT_EQ(register_tokenizer(db, tokenizer), id);
  EXPECT_EQ(list_tokenizers(db).size(), 1u);
  const auto row = find_tokenizer_by_hash(db, "0123abcd");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->id, id);
  EXPECT_EQ(row->kind, TokenizerKind::kBpe);
  EXPECT_EQ(row->vocab_size, 8000);
  EXPECT_EQ(row->trained_on, (std::vector<std::string>{"en", "de \"x\""}));
  EXPECT_EQ(row->created_at.size(), 20u);  // YYYY-MM-DDTHH:MM:SSZ
  EXPECT_EQ(row->created_at.back(), 'Z');
  EXPECT_FALSE(find_tokenizer(db, id + 1).has_value());
}

TEST(Distributions, InsertFindAndTokenCounts) {
  Database db = Database::open_in_memory();
  const int64_t id = insert_distribution(db, fortunes("f1"));
  auto row = find_current_distribution(db, "fortunes");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->id, id);
  EXPECT_EQ(row->version, 1);
  EXPECT_TRUE(row->current());
  EXPECT_EQ(row->n_docs, 1200);
  EXPECT_FALSE(row->n_tokens_train.has_value());  // NULL until tokenized
  set_distribution_token_counts(db, id, 90000, 9000);
  row = find_distribution(db, id);
  EXPECT_EQ(row->n_tokens_train, 90000);
  EXPECT_EQ(row->n_tokens_holdout, 9000);
  EXPECT_EQ(find_distribution_by_fingerprint(db, "f1")->id, id);
  EXPECT_FALSE(find_distribution_by_fingerprint(db, "nope").has_value());
}

TEST(Distributions, SecondCurrentRowWithTheSameNameIsBadInputNamingIt) {
  Database db = Database::open_in_memory();
  insert_distribution(db, fortunes("f1"));
  try {
    insert_distribution(db, fortunes("f2"));
    FAIL() << "expected RegistryError";
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("'fortunes'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(list_distributions(db, true).size(), 1u);
}

TEST(Distributions, ReplaceRetiresTheCurrentRowAndKeepsHistoryForPhases) {
  Database db = Database::open_in_memory();
  const int64_t v1 = insert_distribution(db, fortunes("f1"));
  const int64_t run = create_run(db, {"r", "grove", "", 1, std::nullopt, std::nullopt});
  const int64_t phase = create_phase(db, {run, 0, v1, 10, GrowthDecision::kBase, std::nullopt, 0});

  const int64_t v2 = replace_distribution(db, fortunes("f2"));
  EXPECT_NE(v1, v2);
  const auto current = find_current_distribution(db, "fortunes");
  EXPECT_EQ(current->id, v2);
  EXPECT_EQ(current->version, 2);
  EXPECT_EQ(current->shard_dir, "/data/shards/fortunes-f2");
  const auto old = find_distribution(db, v1);
  EXPECT_FALSE(old->current());
  EXPECT_EQ(old->shard_dir, "/data/shards/fortunes-f1");
  EXPECT_EQ(find_phase_by_id(db, phase)->distribution_id, v1);  // the phase still points at what it used
  EXPECT_EQ(list_distributions(db).size(), 1u);
  EXPECT_EQ(list_distributions(db, true).size(), 2u);
  EXPECT_FALSE(find_distribution_by_fingerprint(db, "f1").has_value());  // retired rows are not current
  EXPECT_THROW(retire_distribution(db, v1), RegistryError);
}

TEST(Shards, RecordReplacesTheSameKeyAndListsTrainBeforeHoldout) {
  Database db = Database::open_in_memory();
  const int64_t dist = insert_distribution(db, fortunes("f1"));
  const int64_t tok = register_tokenizer(db, {"h", TokenizerKind::kUnigram, 4000, "/m", {"fortunes"}, 10});
  const int64_t holdout = record_shard(db, {dist, tok, Split::kHoldout, "/s/holdout.bin", 10, 900, 3000, "x1"});
  const int64_t train = record_shard(db, {dist, tok, Split::kTrain, "/s/train.bin", 90, 9000, 30000, "x2"});
  EXPECT_EQ(record_shard(db, {dist, tok, Split::kTrain, "/s/train2.bin", 91, 9100, 30100, "x3"}), train);
  const auto row = find_shard(db, dist, tok, Split::kTrain);
  EXPECT_EQ(row->path, "/s/train2.bin");
  EXPECT_EQ(row->n_tokens, 9100);
  EXPECT_EQ(row->xxh3, "x3");
  const auto all = list_shards(db, dist);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].split, Split::kTrain);
  EXPECT_EQ(all[1].id, holdout);
  EXPECT_EQ(list_shards(db).size(), 2u);
  EXPECT_THROW(record_shard(db, {dist + 100, tok, Split::kTrain, "/s", 1, 1, 1, "x"}), RegistryError);
}

}  // namespace
}  // namespace grove::registry
